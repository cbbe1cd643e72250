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
Start the steering node on a robot.

    ros2 launch poe_steer_ros steer.launch.py [params_file:=...] [namespace:=...]
        [use_sim_time:=true] [actor_manifest:=/path/to/actor.yaml] [fastdds_profile:=none]
        [managed:=true]

The node reads its parameters from ``params_file`` (default: the package's config/steer.yaml;
a file that does not exist stops the launch) and is remapped for a mobile base: it reads
``odom`` and writes ``cmd_vel``. An actor that sees also reads ``scan``
(sensor_msgs/LaserScan), which the simulators publish under that name. ``managed:=true``
starts the lifecycle variant, which waits unconfigured for
``ros2 lifecycle set /poe_steer configure`` (and ``activate``) or a manager.
"""

import os

from poe_steer_ros.ros.discovery import discovery_environment, DISCOVERY_PROFILE
from poe_steer_ros.ros.stop import start_up_prefix

PACKAGE = 'poe_steer_ros'
EXECUTABLE = 'steer_node'
MANAGED_EXECUTABLE = 'steer_lifecycle_node'
NODE_NAME = 'poe_steer'
DEFAULT_PARAMS_FILE = ('config', 'steer.yaml')
"""Relative to the package's share folder."""
REMAPPINGS = [('state', 'odom'), ('command', 'cmd_vel')]
"""Mobile-base remaps; the tests start the node with exactly these."""
NO_PROFILE = 'none'
"""``fastdds_profile`` value that gives the node no profiles file (``ros2 launch`` refuses an
empty argument value)."""


def generate_launch_description():
    """Describe the arguments and the one node; imports stay here so tests can read the table."""
    from ament_index_python.packages import get_package_share_directory
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    share = get_package_share_directory(PACKAGE)

    def steer_node(context) -> list:
        params_file = LaunchConfiguration('params_file').perform(context)
        if not os.path.isfile(params_file):
            raise FileNotFoundError(f'params_file {params_file} does not exist: the node would '
                                    'run without its safety limits; give an existing YAML file')
        use_sim_time = LaunchConfiguration('use_sim_time').perform(context) == 'true'
        overrides = {'use_sim_time': use_sim_time}
        manifest = LaunchConfiguration('actor_manifest').perform(context)
        if manifest:
            overrides['actor.manifest'] = manifest
        profile = LaunchConfiguration('fastdds_profile').perform(context)
        managed = LaunchConfiguration('managed').perform(context) == 'true'
        executable = MANAGED_EXECUTABLE if managed else EXECUTABLE
        return [Node(package=PACKAGE, executable=executable, exec_name=executable,
                     name=NODE_NAME, namespace=LaunchConfiguration('namespace'), output='screen',
                     parameters=[params_file, overrides], remappings=REMAPPINGS,
                     additional_env=discovery_environment(
                         '' if profile == NO_PROFILE else profile),
                     # after a user's --launch-prefix: signals wait until the node handles them
                     prefix=[LaunchConfiguration('launch-prefix', default=''),
                             ' ' + ' '.join(start_up_prefix())])]

    return LaunchDescription([
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(share, *DEFAULT_PARAMS_FILE),
                              description='YAML file with the steering node parameters (must '
                                          'exist)'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the steering node (e.g. a robot name)'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              choices=['true', 'false'],
                              description='Run on /clock (simulation), not the system clock'),
        DeclareLaunchArgument('actor_manifest', default_value='',
                              description='Frozen actor manifest YAML; empty keeps the one in '
                                          'params_file'),
        DeclareLaunchArgument('fastdds_profile',
                              default_value=os.path.join(share, *DISCOVERY_PROFILE),
                              description='Fast DDS profiles file for the node (longer discovery '
                                          f'announcements); {NO_PROFILE}: no file. A profiles '
                                          'file already set in the environment wins'),
        DeclareLaunchArgument('managed', default_value='false', choices=['true', 'false'],
                              description='Start the lifecycle node: it steers only once '
                                          'configured and activated (ros2 lifecycle set)'),
        OpaqueFunction(function=steer_node),
    ])
