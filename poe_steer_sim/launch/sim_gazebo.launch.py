# Copyright 2026 poe_steer_ros contributors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
Try the steering node in Gazebo (gz sim Harmonic) with ros_gz_bridge.

    ros2 launch poe_steer_sim sim_gazebo.launch.py [gui:=true] [params_file:=...]

Needs ros_gz_sim and ros_gz_bridge (``apt install ros-$ROS_DISTRO-ros-gz``). The bridge
presents the same topics and types as the MuJoCo simulator node (config/gz_bridge.yaml), so
the steering node is included unchanged, on simulated time, with the stand-in planner that
publishes its path prior's path (the world of worlds/diff_drive.sdf, config/sim_world.yaml).
"""

import os

from poe_steer_ros.ros.discovery import discovery_environment, DISCOVERY_PROFILE

PACKAGE = 'poe_steer_sim'
STEER_PACKAGE = 'poe_steer_ros'
WORLD_FILE = ('worlds', 'diff_drive.sdf')
BRIDGE_FILE = ('config', 'gz_bridge.yaml')
PLANNER_PARAMS_FILE = ('config', 'sim_mujoco.yaml')
"""Relative to the package's share folder; its world_file is the world the SDF is made from."""
PLANNER_EXECUTABLE = 'path_planner'


def generate_launch_description():
    """Describe Gazebo, the bridge, the planner and the steering node (imports stay here)."""
    from ament_index_python.packages import get_package_share_directory
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
    from launch.launch_description_sources import PythonLaunchDescriptionSource
    from launch.substitutions import LaunchConfiguration, PythonExpression
    from launch_ros.actions import Node

    share = get_package_share_directory(PACKAGE)
    steer_share = get_package_share_directory(STEER_PACKAGE)
    gz_sim_share = get_package_share_directory('ros_gz_sim')
    world = os.path.join(share, *WORLD_FILE)
    return LaunchDescription([
        DeclareLaunchArgument('gui', default_value='true', choices=['true', 'false'],
                              description='Show the Gazebo GUI (false: server only)'),
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(steer_share, 'config', 'steer.yaml'),
                              description='YAML file with the steering node parameters'),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(gz_sim_share, 'launch',
                                                       'gz_sim.launch.py')),
            launch_arguments={'gz_args': PythonExpression(
                ["'-r ", world, "' + ('' if '", LaunchConfiguration('gui'),
                 "' == 'true' else ' -s')"])}.items()),
        Node(package='ros_gz_bridge', executable='parameter_bridge', output='screen',
             parameters=[{'config_file': os.path.join(share, *BRIDGE_FILE),
                          'use_sim_time': True}],
             additional_env=discovery_environment(os.path.join(steer_share, *DISCOVERY_PROFILE))),
        Node(package=PACKAGE, executable=PLANNER_EXECUTABLE, output='screen',
             parameters=[os.path.join(share, *PLANNER_PARAMS_FILE), {'use_sim_time': True}],
             additional_env=discovery_environment(os.path.join(steer_share, *DISCOVERY_PROFILE))),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(steer_share, 'launch', 'steer.launch.py')),
            launch_arguments={'use_sim_time': 'true',
                              'params_file': LaunchConfiguration('params_file')}.items()),
    ])
