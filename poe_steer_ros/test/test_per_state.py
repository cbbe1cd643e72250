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

"""numba is optional: the per-state kernels fall back to numpy, or refuse, as the variable says."""

import importlib.util
import subprocess
import sys

from poe_steer_ros.core import per_state
import pytest

NEEDS_NUMBA = pytest.mark.skipif(importlib.util.find_spec('numba') is None,
                                 reason='numba is not installed (optional on a robot)')
REPORT = ('import sys; from poe_steer_ros.core import per_state; '
          'print(per_state.BACKEND, "numba" in sys.modules)')


def _run(choice: str | None, hide_numba: bool, without_packages):
    """Report the backend a fresh interpreter picks, with numba hidden as on a lean robot."""
    env = without_packages(*(['numba'] if hide_numba else []))
    if choice is not None:
        env[per_state.KERNELS_VARIABLE] = choice
    return subprocess.run([sys.executable, '-c', REPORT], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize('choice, hide_numba, expected', [
    pytest.param(None, False, 'numba True', marks=NEEDS_NUMBA),
    ('auto', True, 'numpy False'),
    ('numpy', False, 'numpy False'),
    pytest.param('numba', False, 'numba True', marks=NEEDS_NUMBA),
])
def test_the_kernels_follow_the_variable_and_what_is_installed(choice, hide_numba, expected,
                                                               without_packages):
    result = _run(choice, hide_numba, without_packages)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()


def test_a_required_numba_that_is_missing_is_named(without_packages):
    result = _run('numba', True, without_packages)
    assert result.returncode != 0
    assert 'POE_STEER_KERNELS=numba, but the compiled kernels cannot be loaded' in result.stderr
    assert 'numba is not installed here' in result.stderr


def test_an_unknown_choice_is_refused(without_packages):
    result = _run('fast', False, without_packages)
    assert result.returncode != 0
    assert 'POE_STEER_KERNELS must be one of auto, numba, numpy' in result.stderr
