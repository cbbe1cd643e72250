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

"""The goal-grid benchmark: its goal sets, its configurations and a quick run end to end."""

from __future__ import annotations

import pathlib

from poe_steer_lab.cli import main
from poe_steer_lab.reach.benchmark import grid_goals, reachable_goals
from poe_steer_lab.reach.run import configurations, default_goals, FROZEN, SHIPPED
from poe_steer_sim.world import default_world

WORLD = default_world()


def test_default_goal_set_covers_the_arena_and_the_training_region():
    goals = default_goals(WORLD, quick=False)
    assert len(goals) >= 40 and (4.0, 1.5) in goals
    xs, ys = zip(*goals)
    arena = WORLD.arena
    assert min(xs) < arena.x_min_m + 1.0 and max(xs) > arena.x_max_m - 1.0
    assert min(ys) < arena.y_min_m + 1.0 and max(ys) > arena.y_max_m - 1.0
    assert sum(WORLD.goal_region.contains(*goal) for goal in goals) >= 10
    reachable, lengths = reachable_goals(WORLD, goals)
    cylinder = WORLD.obstacles[0]
    assert (cylinder.x_m, cylinder.y_m) not in reachable
    assert all(lengths[goal] > 0.3 for goal in reachable)
    assert len(grid_goals(WORLD, spacing_m=1.0, extra=())) == 7 * 5  # x -1..5, y -2..2


def test_configurations_repeat_per_actor_and_take_variants():
    rows = configurations(['blind', 'seeing'], {'support off': {'prior.type': 'pose'}})
    labels = [row.label for row in rows]
    assert f'blind: {FROZEN}' in labels and f'seeing: {SHIPPED}' in labels
    assert 'seeing: support off' in labels and len(labels) == len(set(labels))
    assert 'blind: prior only, path' in labels and 'seeing: prior only, path' not in labels
    assert [row.label for row in configurations(['blind'], quick=True)] == [FROZEN, SHIPPED]


def test_quick_run_writes_the_table_and_the_pictures(tmp_path: pathlib.Path):
    out = tmp_path / 'out'
    assert main(['reach', '--quick', '--out', str(out), '--cache', str(tmp_path / 'cache')]) == 0
    report = (out / 'reach.md').read_text()
    assert 'frozen |' in report and 'shipped |' in report and '## Targets' in report
    assert (out / 'reach_sim_world.png').stat().st_size > 10_000
    assert (out / 'reach_sim_world_paths.png').is_file()
    # A rerun replays nothing: every episode comes from the cache.
    assert main(['reach', '--quick', '--out', str(out), '--cache', str(tmp_path / 'cache')]) == 0
