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

"""The quick faults: damaged actor, missing CUDA, state pause, clock jump, closed-loop faults."""

from __future__ import annotations

from poe_steer_lab.reliability import faults
import pytest
import torch

pytestmark = pytest.mark.ros


def check(result: faults.FaultResult) -> None:
    assert result.passed, f'{result.name}: {dict(result.measured)}\n{result.detail}'


@pytest.mark.parametrize('damage', list(faults.Damage))
def test_damaged_actor_is_refused_at_start_and_nothing_is_commanded(tmp_path,
                                                                    damage) -> None:
    result = faults.refused_at_start(damage, tmp_path)
    check(result)
    assert result.measured['commands sent'] == '0'


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is present: the fallback is moot')
def test_cuda_requested_but_absent_runs_on_cpu(tmp_path) -> None:
    check(faults.cuda_requested(tmp_path))


def test_state_pause_stops_the_robot_and_resume_steers_again(tmp_path) -> None:
    result = faults.state_pause_resume(tmp_path)
    check(result)
    assert result.measured['non-zero commands while stale'] == '0'


def test_clock_jump_back_does_not_steer_on_the_old_state(tmp_path) -> None:
    """A simulator restart sets the clock back: the pre-restart state must count as stale."""
    result = faults.clock_jump_back(tmp_path)
    check(result)
    assert result.measured['steered ticks on the pre-jump state'] == '0'


@pytest.mark.slow
def test_closed_loop_faults_sim_restart_storm_and_sigkill(tmp_path) -> None:
    """The MuJoCo base stops by its own timeout after SIGKILL; restarts and storms are safe."""
    results = faults.closed_loop_faults(tmp_path, storm_requests=40)
    assert [result.name for result in results] == [
        'simulator restarts mid-run', 'parameter storm during control',
        'steering node killed with SIGKILL']
    for result in results:
        check(result)
