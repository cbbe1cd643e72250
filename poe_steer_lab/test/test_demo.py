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

"""The demo scenario in quick mode: the main job, as the README's first command runs it."""

from poe_steer_lab.ros.demo import IN_REGION_GOAL, run_demo, SHIFTED_GOAL, summary_table
import pytest

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_demo_quick_scenario(tmp_path) -> None:
    segments = {segment.name: segment for segment in run_demo(tmp_path, quick=True)}
    print(summary_table(list(segments.values())))
    in_region = segments['in region, shipped']
    assert in_region.succeeded and in_region.goal == IN_REGION_GOAL
    frozen, steered = segments['shifted, frozen'], segments['shifted, shipped']
    assert frozen.goal == steered.goal == SHIFTED_GOAL
    assert steered.succeeded, 'steering did not bring the base to the shifted goal'
    # The shipped actor alone reaches this goal too, the blind one hits the wall (docs/reach.md):
    # only the steered segment is held to a result.
    assert steered.collisions == 0 and steered.mean_prior_weight > frozen.mean_prior_weight
    assert (tmp_path / 'trajectories.png').stat().st_size > 0
    assert 'shifted, frozen' in (tmp_path / 'summary.md').read_text()
