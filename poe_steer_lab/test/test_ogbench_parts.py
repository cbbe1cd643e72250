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

"""OGBench parts: BFS oracle against ogbench's own, success filter, episode pairing, options."""

import numpy as np
from poe_steer_lab import cli
from poe_steer_lab.ogbench.actors import steps_to_success
from poe_steer_lab.ogbench.maze import make_env, MazeGrid
from poe_steer_lab.ogbench.scenario import episode_seeds


def test_oracle_subgoal_matches_ogbench_helper():
    env = make_env('medium')
    grid = MazeGrid(env)
    rng = np.random.default_rng(0)
    cells = grid.free_cells
    for _ in range(200):
        start = grid.centre(cells[rng.integers(len(cells))]) + rng.uniform(-1.5, 1.5, 2)
        goal = grid.centre(cells[rng.integers(len(cells))])
        expected, _ = env.get_oracle_subgoal(start, goal)
        np.testing.assert_allclose(grid.subgoal(start, goal), expected)


def test_vertex_cells_leave_out_straight_corridors():
    grid = MazeGrid(make_env('medium'))
    assert set(grid.vertex_cells) < set(grid.free_cells)
    assert (3, 3) in grid.free_cells and (3, 3) not in grid.vertex_cells


def test_steps_to_success_counts_within_episodes_only():
    rewards = np.array([-1, -1, 0, -1, -1, -1, 0, -1], dtype=np.float32)
    terminals = np.array([0, 0, 0, 0, 1, 0, 0, 1], dtype=np.float32)
    distance = steps_to_success(rewards, terminals)
    assert distance[:3].tolist() == [2, 1, 0]
    assert distance[3] > 1000 and distance[4] > 1000
    assert distance[5:7].tolist() == [1, 0] and distance[7] > 1000


def test_episode_seeds_depend_on_seed_and_task_only():
    assert episode_seeds(0, 2, 5) == episode_seeds(0, 2, 5)
    assert episode_seeds(0, 2, 5) != episode_seeds(1, 2, 5)
    assert episode_seeds(0, 2, 5) != episode_seeds(0, 3, 5)


def test_an_episode_cap_below_the_episodes_per_cell_is_refused_by_name(tmp_path, capsys):
    code = cli.main(['ogbench', '--episodes', '16', '--max-episodes', '8', '--out',
                     str(tmp_path), '--cache', str(tmp_path)])
    assert code == cli.EXIT_USAGE
    assert 'max_episodes (8)' in capsys.readouterr().err
    assert not any(tmp_path.iterdir()), 'nothing is generated'
