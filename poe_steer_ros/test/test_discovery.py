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

"""The Fast DDS profile variable follows the Fast DDS that rmw_fastrtps_cpp was built with."""

import os
import pathlib
import subprocess
import sys

from poe_steer_ros.ros.discovery import discovery_environment, fast_dds_major
import pytest

RMW_MANIFEST = """<?xml version="1.0"?>
<package format="3">
  <name>rmw_fastrtps_cpp</name>
  <build_depend>fastcdr</build_depend>
  <build_depend>{fast_dds}</build_depend>
  <exec_depend>rmw_fastrtps_shared_cpp</exec_depend>
</package>
"""


def prefix_with_rmw(root: pathlib.Path, fast_dds: str) -> str:
    """Lay out an install prefix whose rmw_fastrtps_cpp depends on ``fast_dds``."""
    share = root / fast_dds / 'share' / 'rmw_fastrtps_cpp'
    share.mkdir(parents=True)
    (share / 'package.xml').write_text(RMW_MANIFEST.format(fast_dds=fast_dds))
    return str(root / fast_dds)


@pytest.mark.parametrize('fast_dds, major, variable', [
    ('fastrtps', 2, 'FASTRTPS_DEFAULT_PROFILES_FILE'),
    ('fastdds', 3, 'FASTDDS_DEFAULT_PROFILES_FILE')])
def test_the_ament_index_decides_over_ros_distro(tmp_path, fast_dds, major, variable):
    prefixes = os.pathsep.join([str(tmp_path / 'empty'), prefix_with_rmw(tmp_path, fast_dds)])
    for distro in ('', 'jazzy', 'kilted'):
        environment = {'AMENT_PREFIX_PATH': prefixes, 'ROS_DISTRO': distro}
        assert fast_dds_major(environment) == major
        assert discovery_environment('profile.xml', environment) == {variable: 'profile.xml'}


def test_the_first_prefix_wins(tmp_path):
    prefixes = os.pathsep.join([prefix_with_rmw(tmp_path, 'fastrtps'),
                                prefix_with_rmw(tmp_path, 'fastdds')])
    assert fast_dds_major({'AMENT_PREFIX_PATH': prefixes}) == 2


def test_ros_distro_decides_without_rmw_fastrtps(tmp_path):
    environment = {'AMENT_PREFIX_PATH': str(tmp_path)}
    assert fast_dds_major(environment) is None
    assert discovery_environment('p.xml', {**environment, 'ROS_DISTRO': 'jazzy'}) == {
        'FASTRTPS_DEFAULT_PROFILES_FILE': 'p.xml'}
    assert discovery_environment('p.xml', environment) == {
        'FASTDDS_DEFAULT_PROFILES_FILE': 'p.xml'}


@pytest.mark.skipif(not pathlib.Path('/proc/self/maps').exists(), reason='needs Linux /proc')
def test_the_fast_dds_found_is_the_one_rclpy_loads():
    """In a process that initialised rclpy, the mapped Fast DDS library has the major found."""
    script = 'import rclpy; rclpy.init(); print(open("/proc/self/maps").read())'
    maps = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          check=True, timeout=120).stdout
    loaded = {major for major, library in ((2, 'libfastrtps.so'), (3, 'libfastdds.so'))
              if library in maps}
    assert loaded == {fast_dds_major()}
