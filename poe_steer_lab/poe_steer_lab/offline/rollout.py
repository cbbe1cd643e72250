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
In-process closed-loop rollouts: run a policy, an actor or a Steerer in a goal environment.

One loop serves dataset generation (behaviour policies), training evaluation (the exported
actor) and the evaluation harness (Steerers): ``run_episodes`` drives a ``Policy`` through
seeded episodes with given goals and returns one ``EpisodeRecord`` per episode (success, time to
goal, final distance, collisions, return and the trajectory). No ROS, no wall clock: the policy
sees the simulated time since the episode started.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Callable, Protocol, runtime_checkable, Sequence

import numpy as np
from poe_steer_lab.plot import draw_world
from poe_steer_ros.core.gaussian import ActionScale, squash
from poe_steer_ros.core.interfaces import Actor, BASE_KEYS, BASE_X, BASE_Y, RobotState
from poe_steer_ros.core.priors import GoalPrior
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.steerer import Steerer, SteeringConfig, Telemetry
from poe_steer_sim.goal_env import GoalEnv
from poe_steer_sim.world import Pose2D, World
import tqdm

BuildObservation = Callable[[RobotState, np.ndarray], np.ndarray]
"""``(state, goal) -> raw observation``, e.g. ``ObservationLayout.build``."""


class Policy(Protocol):
    """A closed-loop controller driven by ``run_episode``."""

    def start_episode(self, seed: int) -> None:
        """Forget the previous episode; seed any randomness of the next one with ``seed``."""
        ...

    def __call__(self, state: RobotState, goal: np.ndarray, time_s: float) -> np.ndarray:
        """Return the command for ``state`` at ``time_s`` seconds into the episode."""
        ...


class ActorPolicy:
    """
    The frozen actor alone: its mean action, squashed and mapped to a command.

    No envelope, no rate limits: what the actor itself was trained to do.
    """

    def __init__(self, actor: Actor, build_observation: BuildObservation) -> None:
        """Keep the actor and how to build its observation."""
        self.actor = actor
        self._build_observation = build_observation
        self._scale = ActionScale(actor.action_low, actor.action_high)

    def start_episode(self, seed: int) -> None:
        """Do nothing: the actor's mean is deterministic and memoryless."""

    def __call__(self, state: RobotState, goal: np.ndarray, time_s: float) -> np.ndarray:
        """Return the command of the actor's mean action."""
        mean, _ = self.actor(self._build_observation(state, goal))
        command: np.ndarray = self._scale.to_command(squash(mean, self.actor.output_kind))
        return command


@runtime_checkable
class EpisodicPrior(Protocol):
    """A goal prior with randomness of its own, reseeded at each episode start."""

    def start_episode(self, seed: int) -> None:
        """Reset any per-episode randomness from ``seed``."""
        ...


class SteererPolicy:
    """
    A fresh ``Steerer`` per episode (no rate-limit memory across episodes), seeded per episode.

    The one steered policy of rollouts and the evaluation protocol: the learned prior, if any,
    is reseeded with the episode's seed when it is an ``EpisodicPrior`` (the paired design).

    :ivar steerer: the current episode's Steerer (before the first episode: one with the
        config's own seed).
    :ivar telemetry: what each tick of the current episode did, in order.
    """

    def __init__(self, actor: Actor, build_observation: BuildObservation,
                 envelope: SafetyEnvelope, config: SteeringConfig, *,
                 learned_prior: GoalPrior | None = None) -> None:
        """
        Build a first Steerer, which checks that the parts fit.

        :param learned_prior: the Steerer's learned prior (used when ``config.prior.type`` is
            learned).
        :raises ValueError: if actor, envelope and config do not fit together.
        """
        self._parts = (actor, build_observation, envelope)
        self._config = config
        self._learned_prior = learned_prior
        self.steerer = self._build(config)
        self.telemetry: list[Telemetry] = []

    def _build(self, config: SteeringConfig) -> Steerer:
        return Steerer(*self._parts, config, learned_prior=self._learned_prior)

    def start_episode(self, seed: int) -> None:
        """Reseed the prior; build the episode's Steerer, whose sampler ``seed`` seeds."""
        if isinstance(self._learned_prior, EpisodicPrior):
            self._learned_prior.start_episode(seed)
        self.steerer = self._build(dataclasses.replace(self._config, seed=seed))
        self.telemetry = []

    def __call__(self, state: RobotState, goal: np.ndarray, time_s: float) -> np.ndarray:
        """Return the Steerer's command and keep its telemetry."""
        command, telemetry = self.steerer.step(state, goal, time_s)
        self.telemetry.append(telemetry)
        return command


@dataclasses.dataclass(frozen=True)
class EpisodeRecord:
    """
    One closed-loop episode.

    :ivar goal: the goal the policy was given.
    :ivar seed: the episode's seed (environment and policy).
    :ivar success: the goal was reached within tolerance before any collision or the time limit.
    :ivar time_to_goal_s: simulated seconds until the goal was reached (None if it was not).
    :ivar final_distance: distance to the goal at the end (m for a mobile base).
    :ivar collisions: control steps in which the robot touched an obstacle or wall (the
        environment ends the episode at the first one, so 0 or 1).
    :ivar episode_return: sum of the environment's rewards.
    :ivar state_keys: the state keys recorded in ``states``, in column order.
    :ivar states: ``(steps + 1, len(state_keys))``: the state before each command and at the end.
    :ivar commands: ``(steps, command_dim)``: the commands applied (after the env's clip).
    :ivar rewards: ``(steps,)``.
    :ivar terminated: ended by reaching the goal or a collision (not by the time limit).
    """

    goal: np.ndarray
    seed: int
    success: bool
    time_to_goal_s: float | None
    final_distance: float
    collisions: int
    episode_return: float
    state_keys: tuple[str, ...]
    states: np.ndarray
    commands: np.ndarray
    rewards: np.ndarray
    terminated: bool

    @property
    def steps(self) -> int:
        """Return the number of control steps."""
        return int(self.commands.shape[0])


def run_episode(policy: Policy, env: GoalEnv, goal: Sequence[float] | np.ndarray | None = None,
                seed: int = 0, start_pose: Pose2D | None = None,
                state_keys: tuple[str, ...] = BASE_KEYS) -> EpisodeRecord:
    """
    Run one episode of ``policy`` in ``env`` until the goal, a collision or the time limit.

    :param policy: the controller; ``start_episode(seed)`` is called first.
    :param env: the environment (reset with ``seed`` and the goal).
    :param goal: the goal, or None to let the environment sample one with ``seed``.
    :param seed: seeds the environment's goal sampling and the policy.
    :param start_pose: where the robot starts (None: the world's start pose).
    :param state_keys: the state keys recorded in the trajectory.
    :returns: the episode's record.
    :raises ValueError: for a bad goal or start pose, or a command of the wrong shape.
    """
    options: dict[str, object] = {} if goal is None else {'goal': np.asarray(goal, dtype=float)}
    if start_pose is not None:
        options['start_pose'] = start_pose
    state, info = env.reset(seed=seed, options=options)
    goal_array = env.goal
    policy.start_episode(seed)
    states = [[state[key] for key in state_keys]]
    commands, rewards = [], []
    collisions = 0
    time_to_goal_s = 0.0 if info['reached'] else None
    terminated = info['reached']
    while not terminated:
        command = policy(state, goal_array, env.elapsed_s)
        state, reward, terminated, truncated, info = env.step(command)
        states.append([state[key] for key in state_keys])
        commands.append(info['command'])
        rewards.append(reward)
        collisions += int(info['collision'])
        if info['reached'] and not info['collision']:
            time_to_goal_s = env.elapsed_s
        if truncated:
            break
    command_dim = len(env.command_names)
    return EpisodeRecord(
        goal=goal_array, seed=seed, success=time_to_goal_s is not None,
        time_to_goal_s=time_to_goal_s, final_distance=float(info['distance']),
        collisions=collisions, episode_return=float(sum(rewards)), state_keys=state_keys,
        states=np.array(states, dtype=np.float64),
        commands=np.array(commands, dtype=np.float64).reshape(-1, command_dim),
        rewards=np.array(rewards, dtype=np.float64), terminated=bool(terminated))


def run_episodes(policy: Policy, env: GoalEnv,
                 goals: Sequence[Sequence[float] | np.ndarray | None], seeds: Sequence[int],
                 start_poses: Sequence[Pose2D | None] | None = None,
                 state_keys: tuple[str, ...] = BASE_KEYS,
                 progress: str | None = None) -> list[EpisodeRecord]:
    """
    Run one episode per ``(goal, seed[, start pose])``.

    :param goals: one goal per episode (None entries: sampled by the environment).
    :param seeds: one seed per episode.
    :param start_poses: one start pose per episode (None: the world's start pose).
    :param progress: a tqdm progress-bar label, or None for no bar.
    :returns: the records, in order.
    :raises ValueError: when the sequences differ in length (naming them).
    """
    poses = [None] * len(goals) if start_poses is None else list(start_poses)
    if not len(goals) == len(seeds) == len(poses):
        raise ValueError(f'goals, seeds and start_poses need one entry per episode, got '
                         f'{len(goals)}, {len(seeds)} and {len(poses)}')
    episodes = zip(goals, seeds, poses)
    return [run_episode(policy, env, goal, seed, pose, state_keys)
            for goal, seed, pose in tqdm.tqdm(episodes, desc=progress, total=len(seeds),
                                              disable=progress is None, leave=False)]


@dataclasses.dataclass(frozen=True)
class EpisodeSummary:
    """Aggregates over episodes (times to goal over successful episodes only)."""

    episodes: int
    success_rate: float
    collision_rate: float
    """Fraction of episodes with at least one collision."""
    mean_time_to_goal_s: float | None
    mean_final_distance: float
    mean_return: float

    def to_dict(self) -> dict[str, float | int | None]:
        """Return plain numbers (rates and means rounded to 4 digits) for reports."""
        return {field.name: _rounded(getattr(self, field.name))
                for field in dataclasses.fields(self)}


def _rounded(value: float | int | None) -> float | int | None:
    return round(value, 4) if isinstance(value, float) else value


def summarize(records: Sequence[EpisodeRecord]) -> EpisodeSummary:
    """
    Aggregate episode records.

    :raises ValueError: when ``records`` is empty.
    """
    if not records:
        raise ValueError('records: need at least one episode to summarize')
    times = [r.time_to_goal_s for r in records if r.time_to_goal_s is not None]
    return EpisodeSummary(
        episodes=len(records),
        success_rate=float(np.mean([r.success for r in records])),
        collision_rate=float(np.mean([r.collisions > 0 for r in records])),
        mean_time_to_goal_s=float(np.mean(times)) if times else None,
        mean_final_distance=float(np.mean([r.final_distance for r in records])),
        mean_return=float(np.mean([r.episode_return for r in records])))


def plot_trajectories(world: World, groups: dict[str, Sequence[EpisodeRecord]],
                      path: str | pathlib.Path, title: str = '') -> pathlib.Path:
    """
    Draw mobile-base trajectories over the world's obstacles, one colour per group; save a PNG.

    Goals are crosses (filled circle when reached), the training goal region a dashed box.

    :param groups: label -> records (their ``state_keys`` must hold ``base.x`` and ``base.y``).
    :raises ValueError: when a record lacks the base position.
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 6))
    draw_world(axes, world)
    colors = plt.rcParams['axes.prop_cycle'].by_key()['color']
    for index, (label, records) in enumerate(groups.items()):
        color = colors[index % len(colors)]
        for number, record in enumerate(records):
            if BASE_X not in record.state_keys or BASE_Y not in record.state_keys:
                raise ValueError(f'groups[{label!r}]: records must hold {BASE_X} and {BASE_Y}')
            xs = record.states[:, record.state_keys.index(BASE_X)]
            ys = record.states[:, record.state_keys.index(BASE_Y)]
            axes.plot(xs, ys, color=color, linewidth=1.2, label=None if number else label)
            axes.plot(*record.goal[:2], marker='o' if record.success else 'x', color=color,
                      markersize=7, fillstyle='full')
    axes.set_aspect('equal')
    axes.set_xlabel('x (m)')
    axes.set_ylabel('y (m)')
    axes.set_title(title)
    axes.legend(loc='upper left', fontsize=8)
    path = pathlib.Path(path)
    figure.savefig(path, dpi=110, bbox_inches='tight')
    plt.close(figure)
    return path
