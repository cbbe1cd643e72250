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

"""The behaviour policy: obstacle-free shortest paths, reproducible noise, competent demos."""

from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st
import numpy as np
from poe_steer_lab.offline.behaviour import BehaviourConfig, GoalSeekingBehaviour
from poe_steer_lab.offline.rollout import run_episodes
from poe_steer_ros.core.interfaces import BASE_X, BASE_Y, BASE_YAW
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW, DiffDriveEnv
from poe_steer_sim.navigation import CostShape, NavigationField
from poe_steer_sim.world import default_world
import pytest

WORLD = default_world()
FIELD = NavigationField(WORLD)
CLEAN = BehaviourConfig(noise_scale=(0.0, 0.0), burst_probability=0.0)


def free_points(min_clearance_m: float) -> st.SearchStrategy[tuple[float, float]]:
    arena = WORLD.arena
    assert arena is not None
    return st.tuples(st.floats(arena.x_min_m, arena.x_max_m),
                     st.floats(arena.y_min_m, arena.y_max_m)).filter(
        lambda point: WORLD.clearance(*point) >= min_clearance_m)


@settings(max_examples=25, deadline=None)
@given(start=free_points(0.3), goal=free_points(0.3))
def test_paths_reach_the_goal_without_entering_an_obstacle(
        start: tuple[float, float], goal: tuple[float, float]) -> None:
    FIELD.set_goal(np.array(goal))
    path = FIELD.path(*start)
    assert np.array_equal(path[-1], goal)
    steps = np.linalg.norm(np.diff(path[:-1], axis=0), axis=1)
    assert np.all(steps <= FIELD.resolution_m * math.sqrt(2) + 1e-9)
    assert min(WORLD.clearance(x, y) for x, y in path) > 0.0
    length = steps.sum() + np.linalg.norm(path[-1] - path[-2]) if len(path) > 1 else 0.0
    assert length >= math.dist(FIELD.cell_centre(FIELD.cell_of(*start)), goal) - 1e-9


def test_the_path_past_the_cylinder_keeps_the_robot_clear_of_it() -> None:
    FIELD.set_goal(np.array([2.5, 0.15]))
    path = FIELD.path(0.0, 0.15)
    assert min(WORLD.clearance(x, y) for x, y in path) >= CostShape().contact_m


def test_lookahead_points_down_the_path() -> None:
    FIELD.set_goal(np.array([3.0, -0.5]))
    path = FIELD.path(0.0, 0.0)
    assert np.array_equal(FIELD.lookahead(0.0, 0.0, 0.5), path[5])
    assert np.array_equal(FIELD.lookahead(0.0, 0.0, 100.0), [3.0, -0.5])


def test_a_field_without_a_goal_refuses_to_plan() -> None:
    with pytest.raises(RuntimeError, match='set_goal'):
        NavigationField(WORLD).lookahead(0.0, 0.0, 0.5)


def test_the_clean_behaviour_reaches_training_goals_without_collisions() -> None:
    behaviour = GoalSeekingBehaviour(WORLD, COMMAND_LOW, COMMAND_HIGH, CLEAN)
    records = run_episodes(behaviour, DiffDriveEnv(WORLD), [None] * 4, [0, 1, 2, 3])
    assert all(record.success and record.collisions == 0 for record in records)


def test_the_noise_is_reproducible_per_seed_and_commands_stay_in_bounds() -> None:
    behaviour = GoalSeekingBehaviour(WORLD, COMMAND_LOW, COMMAND_HIGH,
                                     BehaviourConfig(noise_scale=(1.0, 1.0),
                                                     burst_probability=0.2))
    state = {BASE_X: 0.0, BASE_Y: 0.0, BASE_YAW: 0.0}
    goal = np.array([3.0, 0.5])

    def commands(seed: int) -> np.ndarray:
        behaviour.start_episode(seed)
        return np.array([behaviour(state, goal, 0.05 * step) for step in range(60)])

    first, again, other = commands(5), commands(5), commands(6)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.all(first >= COMMAND_LOW) and np.all(first <= COMMAND_HIGH)


@pytest.mark.parametrize('changes, field', [
    ({'noise_correlation': 1.0}, 'noise_correlation'),
    ({'burst_probability': 1.5}, 'burst_probability'),
    ({'cruise_speed_m_s': (0.9, 0.4)}, 'cruise_speed_m_s'),
])
def test_bad_behaviour_settings_are_refused_by_name(changes: dict[str, object],
                                                    field: str) -> None:
    with pytest.raises(ValueError, match=field):
        BehaviourConfig(**changes)  # type: ignore[arg-type]


def test_bad_cost_shapes_and_resolutions_are_refused() -> None:
    with pytest.raises(ValueError, match='contact_m'):
        CostShape(contact_m=0.6, comfort_m=0.5)
    with pytest.raises(ValueError, match='resolution_m'):
        NavigationField(WORLD, resolution_m=0.0)
