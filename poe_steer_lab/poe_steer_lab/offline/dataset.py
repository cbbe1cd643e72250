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

The seeing actor's dataset (``DatasetConfig.layouts`` set) is recorded in random obstacle
layouts instead (``poe_steer_sim.world.random_layout``), a few episodes per layout, from random
free start poses to random free goals anywhere in the arena, with the lidar's scan features in
the state: the actor has to learn avoidance from what it sees, not where it is.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np
from poe_steer_lab.offline.behaviour import BehaviourConfig, GoalSeekingBehaviour
from poe_steer_lab.offline.rollout import EpisodeRecord, run_episodes, summarize
from poe_steer_ros.core.interfaces import BASE_KEYS
from poe_steer_ros.core.observation import ObservationLayout
from poe_steer_ros.core.scan import scan_key, ScanBinning
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW, DiffDriveEnv
from poe_steer_sim.world import default_world, LayoutConfig, Pose2D, random_layout, World
import tqdm

OBSERVATION_FIELDS = ('base.x', 'base.y', 'base.yaw_cos', 'base.yaw_sin', 'base.v', 'base.w',
                      'goal.dx_body', 'goal.dy_body')
"""The default actor's observation: absolute pose (to learn where the fixed obstacles are),
body twist and the goal in the body frame."""
SCAN_BINS = 12
"""Sectors of the seeing actor's scan features (30 deg each, ``scan.0`` straight ahead)."""
SCAN_RANGE_M = 2.0
"""Range (m) the seeing actor's scan features are divided by and capped at."""
SEEING_OBSERVATION_FIELDS = ('base.v', 'base.w', 'goal.dx_body', 'goal.dy_body',
                             'goal.bearing_cos', 'goal.bearing_sin',
                             *(scan_key(index) for index in range(SCAN_BINS)))
"""The seeing actor's observation: no absolute pose (nothing to memorise a layout with), the
body twist, the goal in the body frame and the nearest range per scan sector."""
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
    layouts: LayoutConfig | None = None
    """Random obstacle layouts with scan features (the seeing actor); None: the world's own."""
    episodes_per_layout: int = 4
    start_clearance_m: float = 0.4
    """Random layouts: least distance from a start position to any obstacle or wall (m)."""

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
        """Return the environment the episodes run in (with scan features for layouts)."""
        scan = None if self.layouts is None else ScanBinning(SCAN_BINS, SCAN_RANGE_M)
        return DiffDriveEnv(world, control_dt_s=self.control_dt_s,
                            max_episode_s=self.max_episode_s, seed=self.seed, scan=scan)

    @property
    def state_keys(self) -> tuple[str, ...]:
        """Return the state keys the episodes record."""
        scan = () if self.layouts is None else tuple(scan_key(i) for i in range(SCAN_BINS))
        return BASE_KEYS + scan


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
    if config.layouts is not None:
        return _layout_episodes(config, config.layouts, world, progress)
    behaviour = GoalSeekingBehaviour(world, COMMAND_LOW, COMMAND_HIGH, config.behaviour)
    seeds, poses = episode_plan(config, world)
    return run_episodes(behaviour, config.make_env(world), [None] * len(seeds), seeds, poses,
                        progress=progress)


def _free_point(rng: np.random.Generator, world: World, clearance_m: float) -> np.ndarray:
    """Draw a point of the arena at least ``clearance_m`` from every obstacle and wall."""
    assert world.arena is not None  # random layouts always have one
    for _ in range(1000):
        point = world.arena.sample(rng)
        if world.clearance(point[0], point[1]) >= clearance_m:
            return point
    raise ValueError(f'no free point with clearance {clearance_m} m in the layout')


def _layout_episodes(config: DatasetConfig, layouts: LayoutConfig, base: World,
                     progress: str | None) -> list[EpisodeRecord]:
    """Record ``episodes_per_layout`` episodes in each of as many random layouts as needed."""
    rng = np.random.default_rng(config.seed)
    records: list[EpisodeRecord] = []
    for _ in tqdm.trange(-(-config.episodes // config.episodes_per_layout), desc=progress,
                         disable=progress is None, leave=False):
        world = random_layout(rng, base, layouts)
        behaviour = GoalSeekingBehaviour(world, COMMAND_LOW, COMMAND_HIGH, config.behaviour)
        count = min(config.episodes_per_layout, config.episodes - len(records))
        seeds = rng.integers(0, 2**31 - 1, size=count).tolist()
        poses, goals = [], []
        for _ in range(count):
            start = _free_point(rng, world, config.start_clearance_m)
            poses.append(Pose2D(*start.tolist(), rng.uniform(-np.pi, np.pi)))
            goals.append(_free_point(rng, world, 0.35))
        records += run_episodes(behaviour, config.make_env(world), goals, seeds, poses,
                                state_keys=config.state_keys)
    return records


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
    if config.layouts is None:
        name = f'diffdrive-goal-seeking-seed{config.seed}'
        goals = (f'uniform in the training region x in [{region.x_min_m}, {region.x_max_m}], '
                 f'y in [{region.y_min_m}, {region.y_max_m}] m, >= 0.35 m from obstacles')
        start = (f'world start pose +- {config.start_jitter_m} m, +- '
                 f'{config.start_jitter_rad} rad')
    else:
        name = f'diffdrive-random-layouts-seed{config.seed}'
        goals = 'uniform in the arena, >= 0.35 m from obstacles and walls'
        start = (f'uniform in the arena, >= {config.start_clearance_m} m from obstacles and '
                 f'walls, any heading; {config.episodes_per_layout} episodes per layout of '
                 f'{config.layouts.describe()}')
    return {
        'name': name,
        'behaviour': config.behaviour.describe(),
        'goals': goals,
        'start': start,
        'episodes': len(records),
        'transitions': int(sum(record.steps for record in records)),
        'seed': config.seed,
        'control_period_s': config.control_dt_s,
        'behaviour_success_rate': round(summary.success_rate, 4),
        'behaviour_collision_rate': round(summary.collision_rate, 4),
    }
