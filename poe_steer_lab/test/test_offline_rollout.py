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

"""Closed-loop rollouts in the real MuJoCo env: records, success, collisions, time limits."""

from __future__ import annotations

import pathlib

import numpy as np
from poe_steer_lab.offline.rollout import (EpisodeRecord, plot_trajectories, run_episode,
                                           run_episodes, summarize)
from poe_steer_ros.core.interfaces import BASE_KEYS, BASE_X, BASE_Y, RobotState
from poe_steer_sim.diff_drive import DiffDriveEnv
from poe_steer_sim.world import default_world, Pose2D
import pytest

WORLD = default_world()


class ConstantPolicy:
    """A scripted controller: one fixed command; remembers what the rollout told it."""

    def __init__(self, command: list[float]) -> None:
        self.command = np.array(command)
        self.seeds: list[int] = []
        self.times_s: list[float] = []

    def start_episode(self, seed: int) -> None:
        self.seeds.append(seed)
        self.times_s = []

    def __call__(self, state: RobotState, goal: np.ndarray, time_s: float) -> np.ndarray:
        self.times_s.append(time_s)
        return self.command


def env(max_episode_s: float = 30.0) -> DiffDriveEnv:
    return DiffDriveEnv(WORLD, max_episode_s=max_episode_s)


@pytest.fixture(scope='module')
def straight() -> tuple[EpisodeRecord, ConstantPolicy]:
    policy = ConstantPolicy([0.5, 0.0])
    return run_episode(policy, env(), goal=[0.8, 0.0], seed=3), policy


def test_driving_straight_at_a_goal_ahead_reaches_it(
        straight: tuple[EpisodeRecord, ConstantPolicy]) -> None:
    record, policy = straight
    assert record.success and record.terminated and record.collisions == 0
    assert record.time_to_goal_s == pytest.approx(record.steps * 0.05)
    assert record.final_distance <= 0.25
    assert policy.seeds == [3]
    assert policy.times_s == pytest.approx([0.05 * step for step in range(record.steps)])


def test_the_record_holds_the_whole_trajectory(
        straight: tuple[EpisodeRecord, ConstantPolicy]) -> None:
    record, _ = straight
    assert record.state_keys == BASE_KEYS
    assert record.states.shape == (record.steps + 1, len(BASE_KEYS))
    assert record.commands.shape == (record.steps, 2)
    assert np.allclose(record.commands, [0.5, 0.0])
    assert record.states[0, BASE_KEYS.index(BASE_X)] == pytest.approx(0.0)
    assert record.states[-1, BASE_KEYS.index(BASE_X)] > 0.5
    start_distance = 0.8
    # Progress reward without collisions: the return is how much closer the robot got.
    assert record.episode_return == pytest.approx(start_distance - record.final_distance)
    assert record.episode_return == pytest.approx(record.rewards.sum())


def test_driving_into_the_cylinder_is_a_collision_and_no_success() -> None:
    record = run_episode(ConstantPolicy([0.6, 0.0]), env(), goal=[2.2, 0.15], seed=0,
                         start_pose=Pose2D(0.0, 0.15, 0.0))
    assert record.collisions == 1 and record.terminated
    assert not record.success and record.time_to_goal_s is None
    start_distance = 2.2
    assert record.episode_return == pytest.approx(start_distance - record.final_distance - 1.0)


def test_the_time_limit_truncates_without_success() -> None:
    record = run_episode(ConstantPolicy([0.0, 0.0]), env(max_episode_s=1.0), goal=[3.0, 0.0])
    assert record.steps == 20 and not record.terminated
    assert not record.success and record.collisions == 0
    assert record.final_distance == pytest.approx(3.0, abs=1e-3)


def test_a_goal_at_the_start_succeeds_without_a_step() -> None:
    record = run_episode(ConstantPolicy([1.0, 0.0]), env(), goal=[0.1, 0.0])
    assert record.success and record.steps == 0 and record.time_to_goal_s == 0.0
    assert record.states.shape == (1, len(BASE_KEYS))


def test_run_episodes_samples_goals_per_seed_and_uses_start_poses() -> None:
    poses = [Pose2D(0.1, -0.1, 0.2), Pose2D(-0.1, 0.1, -0.2)]
    policy = ConstantPolicy([0.0, 0.0])
    records = run_episodes(policy, env(max_episode_s=0.1), [None, None], [11, 12], poses)
    again = run_episodes(policy, env(max_episode_s=0.1), [None], [11])
    assert policy.seeds == [11, 12, 11]
    assert np.array_equal(records[0].goal, again[0].goal)
    assert not np.array_equal(records[0].goal, records[1].goal)
    for record, pose in zip(records, poses):
        assert WORLD.goal_region.contains(*record.goal)
        start = dict(zip(record.state_keys, record.states[0]))
        assert (start[BASE_X], start[BASE_Y]) == pytest.approx((pose.x_m, pose.y_m), abs=1e-9)


def test_run_episodes_needs_one_entry_per_episode() -> None:
    with pytest.raises(ValueError, match='goals, seeds and start_poses'):
        run_episodes(ConstantPolicy([0.0, 0.0]), env(), [None, None], [1])


def test_summarize_aggregates_success_collisions_and_times(
        straight: tuple[EpisodeRecord, ConstantPolicy]) -> None:
    record, _ = straight
    stopped = run_episode(ConstantPolicy([0.0, 0.0]), env(max_episode_s=0.5), goal=[3.0, 0.0])
    summary = summarize([record, stopped])
    assert summary.episodes == 2 and summary.success_rate == 0.5
    assert summary.collision_rate == 0.0
    assert summary.mean_time_to_goal_s == pytest.approx(record.time_to_goal_s)
    assert summary.mean_final_distance == pytest.approx(
        (record.final_distance + stopped.final_distance) / 2)
    assert set(summary.to_dict()) >= {'success_rate', 'mean_return'}
    with pytest.raises(ValueError, match='records'):
        summarize([])


def test_plot_trajectories_writes_a_png(straight: tuple[EpisodeRecord, ConstantPolicy],
                                        tmp_path: pathlib.Path) -> None:
    record, _ = straight
    path = plot_trajectories(WORLD, {'straight': [record]}, tmp_path / 'plot.png', 'test')
    assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
