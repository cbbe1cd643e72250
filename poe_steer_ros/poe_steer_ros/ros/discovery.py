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
Fast DDS discovery settings for every process of the robot's ROS graph.

A new Fast DDS participant announces itself a few times (5, 100 ms apart), then every 3 s. Each
peer that hears it answers with its own announcement; when that answer is lost, the new
participant learns of the peer only at the peer's next periodic announcement. On the project's
benchmark host this cost the steering node's first state 2.3-2.8 s in about 1 start in 25.
``config/fastdds_discovery.xml`` announces for 2 s and then every second: the launch files give
it to the nodes they start, and the robot's other ROS processes (the base driver, a bridge)
should get it too (``export FASTDDS_DEFAULT_PROFILES_FILE=...``, with Fast DDS 2 as on Jazzy
``FASTRTPS_DEFAULT_PROFILES_FILE``), since the wait is set by the peer. Other middlewares ignore
it. Kept free of rclpy and launch so launch files can import it.
"""

from __future__ import annotations

import os
import pathlib
from typing import Mapping
from xml.etree import ElementTree

DISCOVERY_PROFILE = ('config', 'fastdds_discovery.xml')
"""The profiles file, relative to the package's share folder."""
DISCOVERY_VARIABLES = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')
"""
Where Fast DDS 3 (Kilted on) and Fast DDS 2 (Jazzy and older) look for a profiles file. Fast
DDS 2 reads only the second; rmw_fastrtps with Fast DDS 3 reads both but warns at every start
that the second is deprecated, so only the one the distribution reads is set.
"""
FAST_DDS_2_DISTROS = ('humble', 'iron', 'jazzy')
"""``ROS_DISTRO`` values whose rmw_fastrtps uses Fast DDS 2 (when the ament index cannot tell)."""
FAST_DDS_PACKAGES = {'fastrtps': 2, 'fastdds': 3}
"""Package name of Fast DDS -> major version: eProsima renamed it with Fast DDS 3."""


def fast_dds_major(environment: Mapping[str, str] = os.environ) -> int | None:
    """
    Return the major version of the Fast DDS that rmw_fastrtps_cpp loads, None if unknown.

    The first ``rmw_fastrtps_cpp`` on ``AMENT_PREFIX_PATH`` is the one rmw_implementation loads;
    its package.xml names the Fast DDS it was built against (``fastrtps`` up to 2.x, ``fastdds``
    from 3.0). The ROS 2 PyPI wheels set no ``ROS_DISTRO``, so this is the reliable source.
    """
    for prefix in filter(None, environment.get('AMENT_PREFIX_PATH', '').split(os.pathsep)):
        manifest = pathlib.Path(prefix, 'share', 'rmw_fastrtps_cpp', 'package.xml')
        if manifest.is_file():
            names = {element.text for element in ElementTree.parse(manifest).getroot()
                     if element.tag.endswith('depend')}
            majors = {FAST_DDS_PACKAGES[name] for name in names if name in FAST_DDS_PACKAGES}
            return majors.pop() if len(majors) == 1 else None
    return None


def discovery_environment(profile: str,
                          environment: Mapping[str, str] = os.environ) -> dict[str, str]:
    """
    Return the variable pointing Fast DDS at ``profile`` for a process to start.

    :param profile: path of the profiles file; empty: none.
    :param environment: the environment the process inherits: the Fast DDS its ament index
        holds (``fast_dds_major``), else its ``ROS_DISTRO``, picks the variable (Fast DDS 3
        when neither tells); a profiles file already set there wins, and nothing is returned.
    """
    if not profile or any(environment.get(name) for name in DISCOVERY_VARIABLES):
        return {}
    major = fast_dds_major(environment)
    fast_dds_2 = (major == 2 if major is not None
                  else environment.get('ROS_DISTRO', '') in FAST_DDS_2_DISTROS)
    return {DISCOVERY_VARIABLES[1] if fast_dds_2 else DISCOVERY_VARIABLES[0]: profile}
