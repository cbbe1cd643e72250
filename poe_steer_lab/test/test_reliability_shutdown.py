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

"""The quick shutdown runs: the zero command is delivered; signals at start-up exit quietly."""

from __future__ import annotations

from poe_steer_lab.reliability import shutdown
import pytest

pytestmark = pytest.mark.ros


def test_a_stopped_node_delivers_the_zero_command_every_time(tmp_path) -> None:
    result = shutdown.shutdown_runs(4, tmp_path)
    assert result.passed, '\n'.join(result.failures)


def test_a_signal_during_start_up_exits_zero_quietly(tmp_path) -> None:
    result = shutdown.startup_signal_runs((0.005, 0.03, 0.6, 1.5), tmp_path)
    assert result.passed, '\n'.join(result.failures)
