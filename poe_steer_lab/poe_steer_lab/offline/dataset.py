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
The offline dataset of the default actor: behaviour episodes in the MuJoCo diff-drive world.

``generate_episodes`` runs the noisy goal-seeking behaviour (``offline.behaviour``) from
jittered start poses to goals sampled in the world's *training* goal region, with every episode
seeded from one dataset seed, so the same seed gives the same episodes bit for bit.
``to_mdp_dataset`` turns the records into a d3rlpy ``MDPDataset`` whose observations follow the
actor's named layout (``core.observation``) and whose actions are commands in physical units
(the algorithm's min-max action scaler maps them to [-1, 1] with the command bounds).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np
from poe_steer_lab.offline.behaviour import BehaviourConfig, GoalSeekingBehaviour
from poe_steer_lab.offline.rollout import EpisodeRecord, run_episodes, summarize
from poe_steer_ros.core.observation import ObservationLayout
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW, DiffDriveEnv
from poe_steer_sim.world import default_world, Pose2D, World

OBSERVATION_FIELDS = ('base.x', 'base.y', 'base.yaw_cos', 'base.yaw_sin', 'base.v', 'base.w',
                      'goal.dx_body', 'goal.dy_body')
"""The default actor's observation: absolute pose (to learn where the fixed obstacles are),
body twist and the goal in the body frame."""
ACTION_NAMES = ('linear_x', 'angular_z')
"""The default actor's actions, the fields of geometry_msgs/Twist the node fills."""


@dataclasses.dataclass(frozen=True)
class DatasetConfig:
    """What to record: how many episodes, from where, for how long, with which behaviour."""

    episodes: int = 1000
    seed: int = 0
    start_jitter_m: float = 0.15
    """Half-width of the uniform jitter of the start position around the world's (m)."""
    start_jitter_rad: float = 0.3
    """Half-width of the uniform jitter of the start heading (rad)."""
    control_dt_s: float = 0.05
    """Control period (s): 20 Hz, the steering node's default rate."""
    max_episode_s: float = 30.0
    behaviour: BehaviourConfig = BehaviourConfig()

    def __post_init__(self) -> None:
        """Check counts and durations; raise ValueError naming the field."""
        if isinstance(self.episodes, bool) or not isinstance(self.episodes, int) \
                or self.episodes < 1:
            raise ValueError(f'episodes must be an integer >= 1, got {self.episodes!r}')
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f'seed must be an integer >= 0, got {self.seed!r}')
        for name in ('start_jitter_m', 'start_jitter_rad'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f'{name} must be finite and >= 0, got {value}')
        if not (math.isfinite(self.max_episode_s) and self.max_episode_s >= self.control_dt_s):
            raise ValueError(f'max_episode_s must be >= control_dt_s ({self.control_dt_s}), '
                             f'got {self.max_episode_s}')

    def make_env(self, world: World) -> DiffDriveEnv:
        """Return the environment the episodes run in."""
        return DiffDriveEnv(world, control_dt_s=self.control_dt_s,
                            max_episode_s=self.max_episode_s, seed=self.seed)


def episode_plan(config: DatasetConfig, world: World) -> tuple[list[int], list[Pose2D]]:
    """Return each episode's seed and jittered start pose, all drawn from ``config.seed``."""
    rng = np.random.default_rng(config.seed)
    seeds = rng.integers(0, 2**31 - 1, size=config.episodes).tolist()
    start = world.start_pose
    jitter = rng.uniform(-1.0, 1.0, size=(config.episodes, 3)) * [
        config.start_jitter_m, config.start_jitter_m, config.start_jitter_rad]
    poses = [Pose2D(start.x_m + dx, start.y_m + dy, start.yaw_rad + dyaw)
             for dx, dy, dyaw in jitter.tolist()]
    return seeds, poses


def generate_episodes(config: DatasetConfig, world: World | None = None,
                      progress: str | None = None) -> list[EpisodeRecord]:
    """
    Record the behaviour episodes (goals sampled in the training region by each episode's seed).

    :param config: how many episodes, jitter, durations, behaviour.
    :param world: the world (default: ``config/sim_world.yaml``).
    :param progress: a tqdm label, or None for no progress bar.
    :returns: one record per episode, deterministic for ``config``.
    """
    world = default_world() if world is None else world
    behaviour = GoalSeekingBehaviour(world, COMMAND_LOW, COMMAND_HIGH, config.behaviour)
    seeds, poses = episode_plan(config, world)
    return run_episodes(behaviour, config.make_env(world), [None] * len(seeds), seeds, poses,
                        progress=progress)


def to_mdp_dataset(records: Sequence[EpisodeRecord],
                   fields: Sequence[str] = OBSERVATION_FIELDS) -> Any:
    """
    Build a d3rlpy ``MDPDataset``: observations per ``fields``, commands as actions.

    Reaching the goal or colliding ends an episode as terminal; the time limit as a timeout.
    Episodes without a step (started at the goal) are left out.

    :raises ValueError: when no record has a step.
    """
    import d3rlpy

    layout = ObservationLayout(fields)
    observations, actions, rewards, terminals, timeouts = [], [], [], [], []
    for record in records:
        if record.steps == 0:
            continue
        for row in record.states[:-1]:
            observations.append(layout.build(dict(zip(record.state_keys, row)), record.goal))
        actions.append(record.commands)
        rewards.append(record.rewards)
        ends = np.zeros(record.steps, dtype=np.float32)
        ends[-1] = 1.0
        terminals.append(ends if record.terminated else np.zeros_like(ends))
        timeouts.append(np.zeros_like(ends) if record.terminated else ends)
    if not actions:
        raise ValueError('records: no episode has a step; nothing to learn from')
    return d3rlpy.dataset.MDPDataset(
        np.array(observations, dtype=np.float32), np.concatenate(actions).astype(np.float32),
        np.concatenate(rewards).astype(np.float32), np.concatenate(terminals),
        np.concatenate(timeouts))


def describe(config: DatasetConfig, records: Sequence[EpisodeRecord],
             world: World) -> dict[str, Any]:
    """Return the dataset's provenance: behaviour, goals, counts, seed and how well it did."""
    summary = summarize(records)
    region = world.goal_region
    return {
        'name': f'diffdrive-goal-seeking-seed{config.seed}',
        'behaviour': config.behaviour.describe(),
        'goals': (f'uniform in the training region x in [{region.x_min_m}, {region.x_max_m}], '
                  f'y in [{region.y_min_m}, {region.y_max_m}] m, >= 0.35 m from obstacles'),
        'start': (f'world start pose +- {config.start_jitter_m} m, +- '
                  f'{config.start_jitter_rad} rad'),
        'episodes': len(records),
        'transitions': int(sum(record.steps for record in records)),
        'seed': config.seed,
        'control_period_s': config.control_dt_s,
        'behaviour_success_rate': round(summary.success_rate, 4),
        'behaviour_collision_rate': round(summary.collision_rate, 4),
    }
