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
``reach --dds``: a subset of the goal grid through the real node, planner and simulator.

The same goals and configurations as in-process, each from rest at the start pose, through
``ros.closed_loop.ClosedLoop`` (MuJoCo simulator, ``path_planner`` and steering node as separate
processes, settings through the SetParameters service). The table sets both outcomes side by
side: they should agree on reached or not; times differ by DDS timing and the planner's phase.
"""

from __future__ import annotations

import math
import pathlib

from poe_steer_lab.reach.benchmark import EPISODE_S, SUCCESS_RADIUS_M, WorldResult
from poe_steer_lab.reach.report import outcome_kind
from poe_steer_lab.reach.run import configurations, FROZEN, ReachRun, SHIPPED
from poe_steer_lab.ros.closed_loop import ClosedLoop

GOALS = 3
"""Goals of the subset: (4, 1.5) when reachable, then the first training-region and far goals."""
REAL_TIME_FACTOR = 2.0


def subset(result: WorldResult) -> list[tuple[float, float]]:
    """Return a few goals: (4, 1.5), one in the training region, the farthest from it."""
    region = result.world.goal_region
    chosen = [goal for goal in result.goals if goal == (4.0, 1.5)]
    chosen += [goal for goal in result.goals if region.contains(*goal)][:1]
    centre = ((region.x_min_m + region.x_max_m) / 2, (region.y_min_m + region.y_max_m) / 2)
    chosen += sorted(result.goals, key=lambda g: -math.hypot(g[0] - centre[0],
                                                             g[1] - centre[1]))[:1]
    return list(dict.fromkeys(chosen))[:GOALS]


def compare_dds(run: ReachRun, result: WorldResult, out_dir: pathlib.Path) -> str:
    """Replay the subset through DDS for the frozen and shipped rows; write reach_dds.md."""
    world_file = next(path for path in run.worlds if path.stem == result.name)
    actor, manifest = next(iter(run.manifests.items()))
    # Shipped first: the node starts with its parameter file, and settings persist afterwards.
    rows = sorted((row for row in configurations([actor]) if row.label in (FROZEN, SHIPPED)),
                  key=lambda row: row.label != SHIPPED)
    lines = ['| configuration | goal (m) | in-process | time (s) | through DDS | time (s) |',
             '| --- | --- | --- | --- | --- | --- |']
    agree = total = 0
    with ClosedLoop(out_dir / 'reach_dds_logs', {'actor.manifest': str(manifest.resolve())},
                    real_time_factor=REAL_TIME_FACTOR, steer_params_file=run.steer_yaml.resolve(),
                    world_file=world_file.resolve()) as loop:
        for row in rows:
            for goal in subset(result):
                local = result.outcomes[row.label][result.goals.index(goal)]
                segment = loop.segment(f'{row.label} {goal}', goal, dict(row.parameters),
                                       EPISODE_S, tolerance_m=SUCCESS_RADIUS_M, reset=True)
                remote = 'reached' if segment.succeeded else (
                    'collision' if segment.collisions else 'timeout')
                agree += remote == outcome_kind(local)
                total += 1
                lines.append(
                    f'| {row.label} | ({goal[0]:g}, {goal[1]:g}) | {outcome_kind(local)} | '
                    f'{local.time_to_goal_s or math.nan:.1f} | {remote} | '
                    f'{segment.time_to_goal_s:.1f} |')
    text = (f'# Goal-grid subset through DDS ({result.name})\n\nSame goals and settings as '
            f'in-process; outcomes agree on {agree} of {total} episodes.\n\n'
            + '\n'.join(lines) + '\n')
    (out_dir / 'reach_dds.md').write_text(text, encoding='utf-8')
    return text
