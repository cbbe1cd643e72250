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
Try the steering node in MuJoCo before touching hardware.

    ros2 launch poe_steer_sim sim_mujoco.launch.py [real_time_factor:=1.0] [params_file:=...]
        [namespace:=robot1] [use_sim_time:=true] [managed:=false]

Starts the MuJoCo simulator node (``odom``, ``cmd_vel``, ``joint_states``, ``/clock``), the
stand-in global planner (``path``, nav_msgs/Path, for ``prior.type: path``) on the same world,
and includes steer.launch.py, so the steering node is wired exactly as on a robot.
``namespace`` and ``use_sim_time`` apply to all three nodes (``/clock`` stays global); all get
the Fast DDS discovery profile (see ``poe_steer_ros.ros.discovery``).
"""

import os

from poe_steer_ros.ros.discovery import discovery_environment, DISCOVERY_PROFILE

PACKAGE = 'poe_steer_sim'
STEER_PACKAGE = 'poe_steer_ros'
SIM_EXECUTABLE = 'mujoco_sim'
SIM_NODE_NAME = 'mujoco_sim'
SIM_PARAMS_FILE = ('config', 'sim_mujoco.yaml')
"""Relative to the package's share folder."""
PLANNER_EXECUTABLE = 'path_planner'
PLANNER_NODE_NAME = 'path_planner'


def generate_launch_description():
    """Describe the simulator and include the steering node; imports stay here for the tests."""
    from ament_index_python.packages import get_package_share_directory
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
    from launch.launch_description_sources import PythonLaunchDescriptionSource
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node
    from launch_ros.parameter_descriptions import ParameterValue

    share = get_package_share_directory(PACKAGE)
    steer_share = get_package_share_directory(STEER_PACKAGE)
    return LaunchDescription([
        DeclareLaunchArgument('real_time_factor', default_value='1.0',
                              description='Simulated seconds per wall second'),
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(steer_share, 'config', 'steer.yaml'),
                              description='YAML file with the steering node parameters'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the three nodes (e.g. a robot name)'),
        DeclareLaunchArgument('use_sim_time', default_value='true', choices=['true', 'false'],
                              description="All nodes on the simulator's /clock (false: the "
                                          'system clock)'),
        DeclareLaunchArgument('managed', default_value='false', choices=['true', 'false'],
                              description='Start the steering node as a lifecycle node'),
        Node(package=PACKAGE, executable=SIM_EXECUTABLE, name=SIM_NODE_NAME, output='screen',
             namespace=LaunchConfiguration('namespace'),
             parameters=[os.path.join(share, *SIM_PARAMS_FILE),
                         {'real_time_factor': ParameterValue(
                             LaunchConfiguration('real_time_factor'), value_type=float),
                          'use_sim_time': ParameterValue(
                              LaunchConfiguration('use_sim_time'), value_type=bool)}],
             additional_env=discovery_environment(os.path.join(steer_share, *DISCOVERY_PROFILE))),
        # world_file comes from the simulator's parameter file, so both see the same world.
        Node(package=PACKAGE, executable=PLANNER_EXECUTABLE, name=PLANNER_NODE_NAME,
             output='screen', namespace=LaunchConfiguration('namespace'),
             parameters=[os.path.join(share, *SIM_PARAMS_FILE),
                         {'use_sim_time': ParameterValue(
                             LaunchConfiguration('use_sim_time'), value_type=bool)}],
             additional_env=discovery_environment(os.path.join(steer_share, *DISCOVERY_PROFILE))),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(steer_share, 'launch', 'steer.launch.py')),
            launch_arguments={'use_sim_time': LaunchConfiguration('use_sim_time'),
                              'namespace': LaunchConfiguration('namespace'),
                              'managed': LaunchConfiguration('managed'),
                              'params_file': LaunchConfiguration('params_file')}.items()),
    ])
