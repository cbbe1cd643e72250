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

"""The offline dataset: reproducible per seed, observations per the named layout, episode ends."""

from __future__ import annotations

import numpy as np
from poe_steer_lab.offline.dataset import (ACTION_NAMES, DatasetConfig, describe, episode_plan,
                                           generate_episodes, OBSERVATION_FIELDS,
                                           to_mdp_dataset)
from poe_steer_lab.offline.rollout import EpisodeRecord, run_episode
from poe_steer_ros.core.observation import ObservationLayout
from poe_steer_sim.diff_drive import DiffDriveEnv
from poe_steer_sim.world import default_world
import pytest

WORLD = default_world()
SMALL = DatasetConfig(episodes=4, seed=7, max_episode_s=6.0)
"""Four episodes of which the third (7.75 s at full length) ends at the time limit."""


@pytest.fixture(scope='module')
def records() -> list[EpisodeRecord]:
    return generate_episodes(SMALL, WORLD)


def test_the_same_seed_gives_the_same_episodes(records: list[EpisodeRecord]) -> None:
    again = generate_episodes(SMALL, WORLD)
    for first, second in zip(records, again, strict=True):
        assert np.array_equal(first.goal, second.goal)
        assert np.array_equal(first.states, second.states)
        assert np.array_equal(first.commands, second.commands)


def test_another_seed_gives_other_episodes(records: list[EpisodeRecord]) -> None:
    other = generate_episodes(DatasetConfig(episodes=1, seed=8, max_episode_s=1.0), WORLD)
    assert not np.array_equal(other[0].goal, records[0].goal)


def test_episodes_start_near_the_start_pose_and_aim_at_the_training_region(
        records: list[EpisodeRecord]) -> None:
    seeds, poses = episode_plan(SMALL, WORLD)
    assert len(set(seeds)) == SMALL.episodes
    for record, seed, pose in zip(records, seeds, poses):
        assert record.seed == seed
        assert WORLD.goal_region.contains(*record.goal)
        assert abs(pose.x_m) <= SMALL.start_jitter_m and abs(pose.y_m) <= SMALL.start_jitter_m
        assert abs(pose.yaw_rad) <= SMALL.start_jitter_rad


def test_the_mdp_dataset_follows_the_layout_and_episode_ends(
        records: list[EpisodeRecord]) -> None:
    dataset = to_mdp_dataset(records)
    layout = ObservationLayout(OBSERVATION_FIELDS)
    assert len(dataset.episodes) == len(records)
    for episode, record in zip(dataset.episodes, records):
        assert episode.observations.shape == (record.steps, len(OBSERVATION_FIELDS))
        state = dict(zip(record.state_keys, record.states[3]))
        assert np.allclose(episode.observations[3], layout.build(state, record.goal), atol=1e-6)
        assert np.allclose(episode.actions, record.commands, atol=1e-6)
        assert np.allclose(episode.rewards[:, 0], record.rewards, atol=1e-6)
        assert episode.terminated == record.terminated
    assert {record.terminated for record in records} == {True, False}


def test_episodes_without_a_step_are_left_out_and_an_empty_dataset_is_refused(
        records: list[EpisodeRecord]) -> None:
    class Idle:

        def start_episode(self, seed: int) -> None:
            pass

        def __call__(self, state: object, goal: object, time_s: float) -> np.ndarray:
            return np.zeros(2)

    at_goal = run_episode(Idle(), DiffDriveEnv(WORLD), goal=[0.0, 0.0])
    assert at_goal.steps == 0
    assert len(to_mdp_dataset([at_goal, *records]).episodes) == len(records)
    with pytest.raises(ValueError, match='records'):
        to_mdp_dataset([at_goal])


def test_the_description_names_behaviour_counts_and_seed(records: list[EpisodeRecord]) -> None:
    info = describe(SMALL, records, WORLD)
    assert info['episodes'] == 4 and info['seed'] == 7
    assert info['transitions'] == sum(record.steps for record in records)
    assert 'shortest-path' in info['behaviour'] and 'x in [2.0, 3.5]' in info['goals']
    assert ACTION_NAMES == ('linear_x', 'angular_z')


@pytest.mark.parametrize('changes, field', [
    ({'episodes': 0}, 'episodes'), ({'seed': -1}, 'seed'),
    ({'start_jitter_m': -0.1}, 'start_jitter_m'), ({'max_episode_s': 0.01}, 'max_episode_s'),
])
def test_bad_dataset_settings_are_refused_by_name(changes: dict[str, object],
                                                  field: str) -> None:
    with pytest.raises(ValueError, match=field):
        DatasetConfig(**changes)  # type: ignore[arg-type]
