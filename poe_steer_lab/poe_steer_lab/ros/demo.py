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
The main job on the embedded default: simulation + default frozen actor + live goal changes.

``make demo`` (``poe-steer-lab demo``) starts the MuJoCo simulator, the stand-in planner and the
steering node as processes, then drives a scripted scenario through the SetParameters service,
as an operator would with ``ros2 param set``: a goal inside the actor's training region, the
README's goal outside it (frozen, then steered with the shipped settings), goals across the
whole arena, and the README's goal with the straight-line pose prior instead of the planner's
path. The goals come from the goal-grid benchmark (docs/reach.md), where the shipped
steering reaches every reachable goal. It prints a table per segment and writes a trajectory
plot next to a markdown summary.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Mapping, Sequence

from matplotlib.figure import Figure
from poe_steer_lab.plot import draw_world
from poe_steer_lab.ros.closed_loop import ClosedLoop, Segment
from poe_steer_lab.ros.processes import shipped_steer_parameters
from poe_steer_sim.world import default_world

IN_REGION_GOAL = (3.0, 0.5)
"""Inside the training goal region x in [2, 3.5] m, y in [-1, 1] m."""
SHIFTED_GOAL = (4.0, 1.5)
"""The README's goal, beyond the training region: the blind actor alone hits the east wall there
(docs/reach.md); the seeing actor reaches it alone too."""
ACROSS_THE_ARENA = ((-1.0, 0.0), (-0.8, -2.0), (1.6, 2.0), (4.8, -2.0))
"""Behind the start, the south-west corner, the north wall, the south-east corner."""
STEERING_SETTINGS = ('steering.rule', 'steering.alpha', 'prior.type')
SHIPPED = {name: value for name, value in shipped_steer_parameters().items()
           if name in STEERING_SETTINGS}
"""The steering settings of the installed config/steer.yaml, set again after a segment that
changed them."""


@dataclasses.dataclass(frozen=True)
class Step:
    """One scripted segment: a goal and the parameters set for it."""

    name: str
    goal: tuple[float, float]
    settings: Mapping[str, object]
    reset: bool = True


SCENARIO = (
    Step('in region, shipped', IN_REGION_GOAL, SHIPPED),
    Step('shifted, frozen', SHIFTED_GOAL, {'steering.rule': 'frozen'}),
    Step('shifted, shipped', SHIFTED_GOAL, SHIPPED),
    *(Step(f'({goal[0]:g}, {goal[1]:g}), shipped', goal, SHIPPED) for goal in ACROSS_THE_ARENA),
    Step('shifted, pose prior (no planner)', SHIFTED_GOAL, {**SHIPPED, 'prior.type': 'pose'}),
)
QUICK_SCENARIO = SCENARIO[:3]
"""What the test suite runs: enough to compare frozen and steered on the shifted goal."""


def summary_table(segments: Sequence[Segment]) -> str:
    """Markdown table: time to goal, final error, collisions, prior weight, KL."""
    lines = ['| segment | goal (m) | time to goal (s) | final error (m) | collisions | '
             'mean prior weight | mean KL to actor (nats) |',
             '| --- | --- | --- | --- | --- | --- | --- |']
    for segment in segments:
        reached = segment.time_to_goal_s
        lines.append(
            f'| {segment.name} | ({segment.goal[0]:g}, {segment.goal[1]:g}) | '
            f'{"not reached" if math.isinf(reached) else f"{reached:.1f}"} | '
            f'{segment.final_error_m:.2f} | {segment.collisions} | '
            f'{segment.mean_prior_weight:.2f} | {segment.mean_kl:.3f} |')
    return '\n'.join(lines)


def plot_trajectories(segments: Sequence[Segment], path: Path) -> None:
    """Draw each segment's path over the world's obstacles and goal region."""
    figure = Figure(figsize=(8, 6))
    axes = figure.add_subplot()
    draw_world(axes, default_world())
    for segment in segments:
        axes.plot([sample.x for sample in segment.samples],
                  [sample.y for sample in segment.samples], label=segment.name)
        axes.plot(*segment.goal, marker='*', markersize=14, color='k')
    axes.set_title('Frozen actor steered live through parameters (MuJoCo, DDS)')
    axes.legend(loc='lower right', fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def run_demo(out_dir: Path, quick: bool = False, real_time_factor: float = 2.0,
             segment_s: float = 30.0) -> list[Segment]:
    """Run the scenario; write summary.md and trajectories.png into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    segments = []
    with ClosedLoop(out_dir / 'logs', real_time_factor=real_time_factor) as loop:
        for step in QUICK_SCENARIO if quick else SCENARIO:
            print(f'[demo] {step.name}: goal {step.goal}, {dict(step.settings)}', flush=True)
            segments.append(loop.segment(step.name, step.goal, step.settings, segment_s,
                                         reset=step.reset))
    table = summary_table(segments)
    plot_trajectories(segments, out_dir / 'trajectories.png')
    (out_dir / 'summary.md').write_text(
        '# Demo: steering the default frozen actor\n\n'
        'Each segment starts at rest at the start pose; goals and steering settings are set '
        'through the SetParameters service, as `ros2 param set` sets them. "shipped" is '
        f'config/steer.yaml: {SHIPPED["steering.rule"]} at alpha {SHIPPED["steering.alpha"]:g} '
        f'with the {SHIPPED["prior.type"]} prior (the `path_planner` node publishes the path).'
        '\n\n' + table + '\n\n![trajectories](trajectories.png)\n')
    return segments
