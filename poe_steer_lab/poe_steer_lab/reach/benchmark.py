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
The goal-grid benchmark: which goals the planner can reach each configuration reaches.

For one world and one goal set, every goal the stand-in planner (``poe_steer_sim.navigation``)
can reach from the start pose is tried once from rest at the start pose, per configuration
(an actor, a composition rule and a prior). Episodes run in-process through the same core
``Steerer`` the node runs, built like the node builds it: the node's parameters from
``config/steer.yaml`` on top of the code defaults, its envelope (bounds, rate limits,
``alpha_max``) and its actor file choice on the CPU. The path prior gets a fresh plan from the
current pose every ``replan_period_s``, as the ``path_planner`` node publishes one. Results are
cached per episode (world text, goal, settings, actor hash), so reruns only play what changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import multiprocessing
import pathlib
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from poe_steer_ros.core.actor import load_actor
from poe_steer_ros.core.interfaces import BASE_X, BASE_Y, RobotState
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.steerer import Steerer
from poe_steer_ros.ros.parameters import PARAMETERS, steering_config
from poe_steer_ros.ros.steer_node import narrowed_bounds
from poe_steer_sim.diff_drive import DiffDriveEnv
from poe_steer_sim.navigation import PathPlanner
from poe_steer_sim.world import load_world, World
import tqdm
import yaml

SUCCESS_RADIUS_M = 0.3
EPISODE_S = 30.0
REPLAN_PERIOD_S = 0.5
"""As the ``path_planner`` node's default ``replan_period_s``."""
CACHE_VERSION = 1
"""Bump when the episode loop changes what a cached result means."""
CHUNK = 6
"""Goals per worker task: the actor loads once per task."""


@dataclasses.dataclass(frozen=True)
class Configuration:
    """
    One steering configuration: a label, the actor it steers and its parameter overrides.

    :param label: table row and legend name.
    :param actor: key of the actor manifest (``blind``, ``seeing``, ...).
    :param parameters: node parameters set on top of ``config/steer.yaml`` (ROS names).
    """

    label: str
    actor: str
    parameters: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One episode: reached, collided, when, how far it drove, how much the prior weighed."""

    goal: tuple[float, float]
    success: bool
    collision: bool
    time_to_goal_s: float | None
    driven_m: float
    planned_m: float
    mean_prior_weight: float
    stalled_fraction: float
    trajectory: tuple[tuple[float, float], ...]

    @property
    def path_ratio(self) -> float | None:
        """Return the driven length over the planner's (None unless reached)."""
        return self.driven_m / self.planned_m if self.success and self.planned_m > 0 else None


def node_parameters(steer_yaml: pathlib.Path) -> dict[str, Any]:
    """Return the node's parameter values: code defaults overlaid with ``steer_yaml``."""
    values = {spec.name: spec.default for spec in PARAMETERS}
    loaded = yaml.safe_load(steer_yaml.read_text(encoding='utf-8'))['/**']['ros__parameters']
    values.update(loaded)
    return values


def build_steerer(actor: Any, values: Mapping[str, Any]) -> Steerer:
    """Return the Steerer the node builds for ``actor`` from its parameter values."""
    low, high = narrowed_bounds(actor.action_low, actor.action_high,
                                values['limits.command_low'], values['limits.command_high'])
    rates = values['limits.max_rate_per_s'] or [math.inf] * low.size
    envelope = SafetyEnvelope(low, high, np.asarray(rates, dtype=float),
                              alpha_max=values['limits.alpha_max'],
                              fallback=values['limits.fallback'])
    return Steerer(actor, actor.observation_layout.build, envelope, steering_config(values))


def grid_goals(world: World, spacing_m: float = 0.8, margin_m: float = 0.5,
               extra: Iterable[Sequence[float]] = ((4.0, 1.5),)) -> list[tuple[float, float]]:
    """
    Return a goal grid over the whole arena, centred, ``margin_m`` inside the walls, plus extras.

    :raises ValueError: for a world without an arena or a non-positive spacing.
    """
    arena = world.arena
    if arena is None or spacing_m <= 0.0:
        raise ValueError('grid_goals needs a world with an arena and spacing_m > 0')
    axes = []
    for low, high in ((arena.x_min_m, arena.x_max_m), (arena.y_min_m, arena.y_max_m)):
        count = int((high - low - 2 * margin_m) / spacing_m + 1e-9) + 1
        centre = (low + high) / 2
        axes.append(centre + spacing_m * (np.arange(count) - (count - 1) / 2))
    goals = [(round(float(x), 3), round(float(y), 3)) for x in axes[0] for y in axes[1]]
    return goals + [(float(x), float(y)) for x, y in extra if (x, y) not in goals]


def load_goals(path: pathlib.Path) -> list[tuple[float, float]]:
    """Read a goal set: a YAML list of ``[x, y]`` (m)."""
    raw = yaml.safe_load(path.read_text(encoding='utf-8'))
    if not isinstance(raw, list) or not all(isinstance(g, list) and len(g) == 2 for g in raw):
        raise ValueError(f'{path}: a goal set is a YAML list of [x, y] pairs')
    return [(float(x), float(y)) for x, y in raw]


def reachable_goals(world: World, goals: Sequence[tuple[float, float]]
                    ) -> tuple[list[tuple[float, float]], dict[tuple[float, float], float]]:
    """
    Return the goals the planner reaches from the start pose and their planned lengths (m).

    Goals within the success radius of the start are left out: nothing to steer.
    """
    planner, start = PathPlanner(world), world.start_pose
    kept, lengths = [], {}
    for goal in goals:
        if math.hypot(goal[0] - start.x_m, goal[1] - start.y_m) <= SUCCESS_RADIUS_M:
            continue
        path = planner.plan(start.x_m, start.y_m, np.array(goal))
        if path is not None:
            kept.append(goal)
            lengths[goal] = PathPlanner.length_m(path)
    return kept, lengths


@dataclasses.dataclass(frozen=True)
class Task:
    """Everything one worker needs to play one configuration on a list of goals."""

    world_file: pathlib.Path
    manifest: pathlib.Path
    values: Mapping[str, Any]
    goals: tuple[tuple[float, float], ...]
    planned_m: Mapping[tuple[float, float], float]


def play(task: Task) -> list[Outcome]:
    """Play ``task``'s goals (worker entry point: loads world, actor and planner itself)."""
    world = load_world(task.world_file)
    frozen = load_actor(task.manifest, device='cpu', num_threads=1,
                        model_format=task.values['actor.format'])
    # The planner feeds the path prior as the path_planner node would.
    uses_path = task.values['prior.type'] == 'path' and task.values['steering.rule'] != 'frozen'
    planner = PathPlanner(world) if uses_path else None
    env = DiffDriveEnv(world, control_dt_s=1.0 / task.values['control.rate_hz'],
                       max_episode_s=EPISODE_S, goal_tolerance_m=SUCCESS_RADIUS_M,
                       **_scan_option(frozen))
    actor = _node_actor(frozen, task.values)
    return [_episode(env, build_steerer(actor, task.values), planner, goal,
                     task.planned_m[goal]) for goal in task.goals]


def _node_actor(frozen: Any, values: Mapping[str, Any]) -> Any:
    """Return the actor as the node runs it: std widened off support when it has a model."""
    support = getattr(frozen, 'support', None)
    if support is None:
        return frozen
    from poe_steer_ros.core.support import SupportAwareActor  # bundles with a support model
    return SupportAwareActor(frozen, support, values['support.std_gain'])


def _scan_option(frozen: Any) -> dict[str, Any]:
    """Return the environment option that simulates the actor's scan sectors (none if blind)."""
    bins = getattr(frozen.observation_layout, 'scan_bins', 0)
    if not bins:
        return {}
    from poe_steer_ros.core.scan import ScanBinning  # actors that observe a scan
    return {'scan': ScanBinning(bins, float(frozen.manifest.observation.scan_range_m))}


def _episode(env: DiffDriveEnv, steerer: Steerer, planner: PathPlanner | None,
             goal: tuple[float, float], planned_m: float) -> Outcome:
    """Run one episode from rest at the start pose; the first collision ends it."""
    state, info = env.reset(seed=0, options={'goal': np.array(goal)})
    goal_array = np.array(goal)
    positions = [(state[BASE_X], state[BASE_Y])]
    weights, stalls = [], 0
    next_plan_s = 0.0
    reached, collided, truncated = bool(info['reached']), False, False
    while not (reached or collided or truncated):
        now_s = env.elapsed_s
        if planner is not None and now_s >= next_plan_s:
            _replan(steerer, planner, state, goal_array, now_s)
            next_plan_s = now_s + REPLAN_PERIOD_S
        command, telemetry = steerer.step(state, goal_array, now_s)
        weights.append(float(np.mean(telemetry.prior_weight)))
        stalls += telemetry.stalled
        state, _, terminated, truncated, info = env.step(command)
        positions.append((state[BASE_X], state[BASE_Y]))
        collided = bool(info['collision'])
        reached = bool(info['reached']) and not collided
    trajectory = np.array(positions)
    return Outcome(
        goal=goal, success=reached, collision=collided,
        time_to_goal_s=env.elapsed_s if reached else None,
        driven_m=float(np.hypot(*np.diff(trajectory, axis=0).T).sum()), planned_m=planned_m,
        mean_prior_weight=float(np.mean(weights)) if weights else 0.0,
        stalled_fraction=stalls / max(len(weights), 1),
        trajectory=tuple((round(x, 3), round(y, 3)) for x, y in trajectory[::5].tolist()))


def _replan(steerer: Steerer, planner: PathPlanner, state: RobotState, goal: np.ndarray,
            now_s: float) -> None:
    """Hand the Steerer a fresh plan from the current pose, as the planner node publishes it."""
    path = planner.plan(state[BASE_X], state[BASE_Y], goal)
    steerer.set_path(np.empty((0, 2)) if path is None else path, now_s)


class EpisodeCache:
    """One JSON file of outcomes per (world, settings, actor, goal) key, under a folder."""

    def __init__(self, folder: pathlib.Path) -> None:
        """Create the folder if needed."""
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(world_text: str, actor_sha256: str, values: Mapping[str, Any],
            goal: tuple[float, float]) -> str:
        """Return the cache key of one episode."""
        text = json.dumps([CACHE_VERSION, world_text, actor_sha256, sorted(values.items()),
                           goal], default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def get(self, key: str) -> Outcome | None:
        """Return the cached outcome, or None."""
        path = self.folder / f'{key}.json'
        if not path.is_file():
            return None
        raw = json.loads(path.read_text())
        raw['goal'] = tuple(raw['goal'])
        raw['trajectory'] = tuple(tuple(point) for point in raw['trajectory'])
        return Outcome(**raw)

    def put(self, key: str, outcome: Outcome) -> None:
        """Store one outcome."""
        (self.folder / f'{key}.json').write_text(json.dumps(dataclasses.asdict(outcome)))


@dataclasses.dataclass(frozen=True)
class WorldResult:
    """A world's reachable goals and every configuration's outcome per goal, in goal order."""

    name: str
    world: World
    goals: tuple[tuple[float, float], ...]
    unreachable: tuple[tuple[float, float], ...]
    outcomes: Mapping[str, tuple[Outcome, ...]]


def run_world(name: str, world_file: pathlib.Path, goals: Sequence[tuple[float, float]],
              configurations: Sequence[Configuration], manifests: Mapping[str, pathlib.Path],
              base_values: Mapping[str, Any], cache: EpisodeCache, workers: int = 1,
              progress: bool = True) -> WorldResult:
    """Play every configuration on every reachable goal of one world (cached episodes skip)."""
    world = load_world(world_file)
    world_text = world_file.read_text(encoding='utf-8')
    reachable, planned = reachable_goals(world, goals)
    hashes = {actor: _actor_hash(path) for actor, path in manifests.items()}
    tasks: list[tuple[tuple[str, ...], Task]] = []
    keys: dict[str, list[str]] = {}
    for configuration in configurations:
        values = {**base_values, **configuration.parameters}
        keys[configuration.label] = [cache.key(world_text, hashes[configuration.actor], values,
                                               goal) for goal in reachable]
        missing = [(key, goal) for key, goal in zip(keys[configuration.label], reachable)
                   if cache.get(key) is None]
        for first in range(0, len(missing), CHUNK):
            chunk = missing[first:first + CHUNK]
            tasks.append((tuple(key for key, _ in chunk), Task(
                world_file, manifests[configuration.actor], values,
                tuple(goal for _, goal in chunk), planned)))
    _play_all(tasks, cache, workers, progress, name)
    outcomes = {label: tuple(_cached(cache, key) for key in chunk)
                for label, chunk in keys.items()}
    unreachable = tuple(g for g in goals if g not in reachable)
    return WorldResult(name, world, tuple(reachable), unreachable, outcomes)


def _cached(cache: EpisodeCache, key: str) -> Outcome:
    """Return a cached outcome that must exist."""
    outcome = cache.get(key)
    if outcome is None:
        raise RuntimeError(f'episode {key} was not played')
    return outcome


def _play_all(tasks: list[tuple[tuple[str, ...], Task]], cache: EpisodeCache, workers: int,
              progress: bool, label: str) -> None:
    """Play the tasks, in worker processes when ``workers > 1``, caching each outcome."""
    total = sum(len(task.goals) for _, task in tasks)
    bar = tqdm.tqdm(total=total, desc=f'reach {label}', disable=not progress or not total)
    if workers > 1 and len(tasks) > 1:
        with multiprocessing.get_context('spawn').Pool(workers) as pool:
            results: Iterable[list[Outcome]] = pool.imap(play, [task for _, task in tasks])
            _store(tasks, results, cache, bar)
    else:
        _store(tasks, map(play, (task for _, task in tasks)), cache, bar)
    bar.close()


def _store(tasks: list[tuple[tuple[str, ...], Task]], results: Iterable[list[Outcome]],
           cache: EpisodeCache, bar: Any) -> None:
    """Cache each task's outcomes as they come in."""
    for (keys, _), outcomes in zip(tasks, results):
        for key, outcome in zip(keys, outcomes):
            cache.put(key, outcome)
        bar.update(len(keys))


def _actor_hash(manifest: pathlib.Path) -> str:
    """Return the SHA-256 of a manifest file (it certifies the model files' hashes)."""
    return hashlib.sha256(manifest.read_bytes()).hexdigest()
