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

"""The launch files: their node tables point at real files, and they load where launch exists."""

import importlib.util
from xml.etree import ElementTree

from poe_steer_lab.ros.processes import executable_path, launch_table, share_file
from poe_steer_ros.ros.discovery import (discovery_environment, DISCOVERY_PROFILE,
                                         DISCOVERY_VARIABLES)
import pytest

LAUNCH_FILES = ('steer.launch.py', 'sim_mujoco.launch.py', 'sim_gazebo.launch.py')
HAVE_LAUNCH = all(importlib.util.find_spec(name) is not None for name in ('launch', 'launch_ros'))


def test_node_tables_name_installed_executables_and_files() -> None:
    steer = launch_table('steer.launch.py')
    assert executable_path(steer.EXECUTABLE).is_file()
    assert share_file(*steer.DEFAULT_PARAMS_FILE).is_file()
    assert dict(steer.REMAPPINGS) == {'state': 'odom', 'command': 'cmd_vel'}
    sim = launch_table('sim_mujoco.launch.py')
    assert executable_path(sim.SIM_EXECUTABLE, sim.PACKAGE).is_file()
    assert executable_path(sim.PLANNER_EXECUTABLE, sim.PACKAGE).is_file()
    assert share_file(*sim.SIM_PARAMS_FILE, package=sim.PACKAGE).is_file()
    profile = str(share_file(*DISCOVERY_PROFILE))
    assert ElementTree.parse(profile).getroot().tag.endswith('profiles')
    assert discovery_environment(profile, {}) == {'FASTDDS_DEFAULT_PROFILES_FILE': profile}
    assert discovery_environment(profile, {'ROS_DISTRO': 'kilted'}) == {
        'FASTDDS_DEFAULT_PROFILES_FILE': profile}
    assert discovery_environment(profile, {'ROS_DISTRO': 'jazzy'}) == {
        'FASTRTPS_DEFAULT_PROFILES_FILE': profile}
    for already_set in DISCOVERY_VARIABLES:
        assert discovery_environment(profile, {already_set: 'x'}) == {}
    assert discovery_environment('', {}) == {}
    gazebo = launch_table('sim_gazebo.launch.py')
    assert share_file(*gazebo.WORLD_FILE, package=gazebo.PACKAGE).is_file()
    assert share_file(*gazebo.BRIDGE_FILE, package=gazebo.PACKAGE).is_file()
    assert executable_path(gazebo.PLANNER_EXECUTABLE, gazebo.PACKAGE).is_file()
    assert share_file(*gazebo.PLANNER_PARAMS_FILE, package=gazebo.PACKAGE).is_file()


@pytest.mark.skipif(not HAVE_LAUNCH, reason='launch and launch_ros are not installed (the ROS 2 '
                    'PyPI wheels do not ship them); the node tables above are tested instead')
@pytest.mark.parametrize('launch_file', LAUNCH_FILES[:2])
def test_launch_description_declares_described_arguments(launch_file: str) -> None:
    from launch.actions import DeclareLaunchArgument
    description = launch_table(launch_file).generate_launch_description()
    arguments = [entity for entity in description.entities
                 if isinstance(entity, DeclareLaunchArgument)]
    assert arguments
    assert all(argument.description for argument in arguments)
