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

"""Signals that arrive before the node's handlers exist wait, blocked, and then stop it."""

from __future__ import annotations

import subprocess
import sys

from poe_steer_ros.ros import stop
import pytest

SIGNAL_THEN_HANDLE = """
import os, signal
from poe_steer_ros.ros import stop
os.kill(os.getpid(), signal.{signal})  # as if sent while the interpreter was starting
stop.request_stop_on_signals()
print('stop requested' if stop.STOP_REQUESTED.is_set() else 'not requested')
"""


@pytest.mark.skipif(not stop.start_up_prefix(), reason='this env cannot block signals')
@pytest.mark.parametrize('signal_name', ['SIGINT', 'SIGTERM'])
def test_a_signal_during_start_up_waits_for_the_handlers(signal_name: str) -> None:
    result = subprocess.run(
        [*stop.start_up_prefix(), sys.executable, '-c',
         SIGNAL_THEN_HANDLE.format(signal=signal_name)],
        capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, 'stop requested'), result.stderr


def test_without_the_prefix_the_same_signal_kills() -> None:
    """What the prefix is for: the default disposition ends the process at once."""
    result = subprocess.run([sys.executable, '-c', SIGNAL_THEN_HANDLE.format(signal='SIGTERM')],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == -15 and result.stdout == ''
