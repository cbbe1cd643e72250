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

"""Closed loop through DDS: MuJoCo simulator + steering node + the default frozen actor."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator

from poe_steer_lab.ros.closed_loop import ClosedLoop, Segment
from poe_steer_lab.ros.demo import IN_REGION_GOAL, SHIFTED_GOAL, SHIPPED
from poe_steer_ros.core.manifest import ActorManifest, ModelFormat
import pytest
import torch

pytestmark = [pytest.mark.ros, pytest.mark.slow]

DEFAULT_MANIFEST = (Path(__file__).resolve().parents[2] / 'poe_steer_ros' / 'models'
                    / 'seeing_actor.pt.yaml')
REAL_TIME_FACTOR = 2.0
GOAL_TOLERANCE_M = 0.3
TIME_BOUND_S = 30.0
"""Simulated seconds allowed to reach a goal from the start pose."""
HEADING_TOLERANCE_RAD = math.radians(30.0)
RETARGET_BOUND_S = 4.0
"""Simulated seconds allowed to turn toward a new goal after a parameter change."""


@pytest.fixture(scope='module')
def loop(tmp_path_factory) -> Iterator[ClosedLoop]:
    with ClosedLoop(tmp_path_factory.mktemp('closed_loop'),
                    real_time_factor=REAL_TIME_FACTOR) as closed_loop:
        yield closed_loop


def heading_error(segment: Segment, index: int) -> float:
    sample = segment.samples[index]
    bearing = math.atan2(segment.goal[1] - sample.y, segment.goal[0] - sample.x)
    return abs(math.remainder(bearing - sample.yaw, math.tau))


def test_sim_time_drives_the_steering_node(loop: ClosedLoop) -> None:
    before = loop.sim_time_s
    loop.run(1.0)
    assert loop.sim_time_s >= before + 1.0
    status = loop.statuses[-1]
    stamp = status.header.stamp.sec + 1e-9 * status.header.stamp.nanosec
    assert abs(stamp - loop.sim_time_s) < 1.0, 'the node does not run on /clock'


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a machine without CUDA')
def test_the_default_actor_runs_its_onnx_file_on_the_cpu(loop: ClosedLoop) -> None:
    manifest = ActorManifest.load(DEFAULT_MANIFEST)
    onnx = next(f for f in manifest.model_files if f.format is ModelFormat.ONNX)
    loop.run(0.5)
    assert loop.statuses[-1].actor_sha256 == onnx.sha256


@pytest.mark.parametrize('goal', [IN_REGION_GOAL, (2.5, -0.5), SHIFTED_GOAL])
def test_goals_set_at_runtime_are_reached(loop: ClosedLoop, goal: tuple[float, float]) -> None:
    """The shipped settings (config/steer.yaml) reach goals inside and beyond the training area."""
    segment = loop.segment(f'goal {goal}', goal, SHIPPED, TIME_BOUND_S,
                           tolerance_m=GOAL_TOLERANCE_M, reset=True)
    assert segment.time_to_goal_s <= TIME_BOUND_S, \
        f'{goal} not reached; closest {segment.closest_m:.2f} m'
    assert segment.final_error_m <= GOAL_TOLERANCE_M
    assert segment.collisions == 0


def test_time_to_head_toward_a_new_goal(loop: ClosedLoop) -> None:
    """Metric test: after a goal change by parameter, how long until the base faces it."""
    loop.segment('approach', IN_REGION_GOAL, {'steering.rule': 'poe', 'steering.alpha': 0.5},
                 4.0, reset=True, stop_at_goal=False)
    retarget = loop.segment('retarget', (0.0, -2.0), {}, RETARGET_BOUND_S + 2.0,
                            stop_at_goal=False)
    facing = [index for index in range(len(retarget.samples))
              if heading_error(retarget, index) <= HEADING_TOLERANCE_RAD]
    assert facing, 'the base never turned toward the new goal'
    time_to_face_s = retarget.samples[facing[0]].time_s - retarget.samples[0].time_s
    print(f'time to face the new goal: {time_to_face_s:.2f} s (bound {RETARGET_BOUND_S} s)')
    assert time_to_face_s <= RETARGET_BOUND_S
