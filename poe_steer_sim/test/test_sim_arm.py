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

"""Planar arm: joint-velocity tracking, limits, goals and determinism."""

import math

import numpy as np
from poe_steer_ros.core.interfaces import joint_position_key, joint_velocity_key
from poe_steer_sim.arm import COMMAND_HIGH, JOINT_LIMIT_RAD, JOINT_NAMES, PlanarArmEnv
import pytest


def positions(state: dict) -> np.ndarray:
    return np.array([state[joint_position_key(name)] for name in JOINT_NAMES])


def test_joint_velocity_commands_are_tracked() -> None:
    env = PlanarArmEnv(seed=0)
    env.reset(options={'goal': [2.0, 2.0, 2.0]})
    command = [1.0, -0.5, 0.25]
    for _ in range(10):
        state, *_ = env.step(command)
    before = positions(state)
    for _ in range(10):
        state, *_ = env.step(command)
    velocities = [state[joint_velocity_key(name)] for name in JOINT_NAMES]
    np.testing.assert_allclose(velocities, command, atol=0.03)
    np.testing.assert_allclose(positions(state) - before, np.array(command) * 0.5, atol=0.01)


def test_joint_limits_hold_under_a_saturating_command() -> None:
    env = PlanarArmEnv(seed=0, max_episode_s=10.0)
    env.reset(options={'goal': [0.0, 0.0, 0.0]})
    for _ in range(80):  # 4 s at 1.5 rad/s would reach 6 rad without limits
        state, _, _, _, info = env.step([9.0, -9.0, 9.0])
    assert info['command'].tolist() == [1.5, -1.5, 1.5]
    assert np.all(np.abs(positions(state)) <= JOINT_LIMIT_RAD + 0.01)
    assert np.all(np.abs(positions(state)) >= JOINT_LIMIT_RAD - 0.05)


def test_proportional_control_reaches_a_sampled_goal() -> None:
    env = PlanarArmEnv(seed=4)
    state, info = env.reset()
    assert np.all(np.abs(env.goal) <= JOINT_LIMIT_RAD - env.goal_margin_rad)
    for _ in range(200):
        command = np.clip(2.0 * (env.goal - positions(state)), -COMMAND_HIGH, COMMAND_HIGH)
        state, reward, terminated, truncated, info = env.step(command)
        if terminated or truncated:
            break
    assert terminated and info['reached'] and info['distance'] <= env.goal_tolerance
    assert not info['collision']


def test_same_seed_same_goals() -> None:
    first, second = PlanarArmEnv(seed=5), PlanarArmEnv(seed=5)
    for _ in range(3):
        first.reset()
        second.reset()
        np.testing.assert_array_equal(first.goal, second.goal)


def test_start_positions_option_and_its_validation() -> None:
    env = PlanarArmEnv()
    state, _ = env.reset(options={'start_positions': [0.5, -0.5, 1.0], 'goal': [0.0] * 3})
    np.testing.assert_allclose(positions(state), [0.5, -0.5, 1.0])
    for bad in ([0.0, 0.0], [0.0, 0.0, 3.0], [math.nan, 0.0, 0.0]):
        with pytest.raises(ValueError, match='start_positions'):
            env.reset(options={'start_positions': bad})


def test_non_finite_command_is_rejected() -> None:
    env = PlanarArmEnv()
    env.reset()
    with pytest.raises(ValueError, match='finite'):
        env.step([0.0, math.inf, 0.0])
