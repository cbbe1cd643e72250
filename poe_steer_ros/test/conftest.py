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

"""Test-session settings and fixtures shared by every test module."""

import os
import pathlib
from typing import Callable

import pytest

# Keep this session's DDS traffic to itself: a domain of its own on the loopback interface, so
# parallel sessions and other engineers' nodes on the same machine never cross-talk. Spawned
# node processes inherit both variables.
os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')


@pytest.fixture
def without_packages(tmp_path: pathlib.Path) -> Callable[..., dict[str, str]]:
    """
    Return a function giving an environment in which Python cannot import the named packages.

    Each package is shadowed by one that raises ImportError, as on a robot that installed
    requirements-robot.txt only; the choice of per-state kernels is left to the default.
    """
    folder = tmp_path / 'blocked'

    def environment(*names: str) -> dict[str, str]:
        for name in names:
            (folder / name).mkdir(parents=True, exist_ok=True)
            (folder / name / '__init__.py').write_text(
                f"raise ImportError('{name} is not installed here (blocked by the test)')\n")
        result = dict(os.environ)
        result.pop('POE_STEER_KERNELS', None)
        result['PYTHONPATH'] = os.pathsep.join(filter(None, [str(folder),
                                                             result.get('PYTHONPATH')]))
        return result
    return environment
