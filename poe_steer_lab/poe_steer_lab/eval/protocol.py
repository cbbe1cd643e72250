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
The evaluation protocol: actors x priors x objective shifts x rules, paired over episodes.

A *cell* is (actor, prior, objective shift); a *run* is a cell under one steering rule. Every
run of a cell plays the same episodes as the frozen actor: for each seed, a fixed list of
(episode seed, start pose, goal), and the episode seed also seeds the prior's noise. Runs go
through the core ``Steerer`` in-process (no DDS) in the MuJoCo diff-drive world, deterministic
(mean action), with a safety envelope of command bounds only (no rate limits, ``alpha_max``
1), so differences between rules come from composition alone.

Three blocks of runs share one result table (a run needed by two blocks runs once):

* grid: every actor x {oracle, honest and over-confident degraded at ``grid_noise``, random} x
  ``grid_shifts_m`` x every rule (frozen, PoE and additive at each alpha, KL-reg at the
  matching beta, prior-only, the KL-budget selector at each budget);
* noise: every actor x {oracle, degraded at each noise scale in both flavours} x no shift x
  the sweep rules;
* shift: every actor x oracle x ``shifts_m`` x the sweep rules.

Work is split into one task per (run, seed) and spread over worker processes. Cells whose
comparisons need more episodes can play extra seeds (``run_seeds``); a cache keeps every
finished task, so asking again plays only the new ones.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import math
import multiprocessing
import pathlib
import time
from typing import Any, Iterator, Mapping, Protocol, Sequence

import numpy as np
from poe_steer_lab.eval.priors import (build_prior, EvalPrior, ExpertPrior, Flavour, ORACLE,
                                       OraclePrior, PriorKind, PriorSettings, PriorSpec, RANDOM)
from poe_steer_lab.offline.dataset import DatasetConfig, episode_plan
from poe_steer_lab.offline.rollout import run_episode, SteererPolicy
from poe_steer_ros.core.actor import FrozenActor, load_actor, sha256_of
from poe_steer_ros.core.compose import alpha_to_beta, Rule
from poe_steer_ros.core.gaussian import ActionScale
from poe_steer_ros.core.priors import PriorConfig, PriorType
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.steerer import ActionMode, SteeringConfig, Telemetry
from poe_steer_sim.diff_drive import DiffDriveEnv
from poe_steer_sim.world import default_world, Pose2D, World
import tqdm


class RuleFamily(str, enum.Enum):
    """The composition rules of the protocol; the selector is PoE under a KL budget."""

    FROZEN = 'frozen'
    POE = 'poe'
    KL = 'kl'
    ADDITIVE = 'additive'
    PRIOR_ONLY = 'prior_only'
    SELECTOR = 'selector'


@dataclasses.dataclass(frozen=True)
class RuleSpec:
    """
    One steering rule with its weight.

    :param family: the rule.
    :param alpha: prior weight of poe and additive; the matching alpha of kl
        (``beta = alpha / (1 - alpha)``); the largest alpha the selector may choose.
    :param kl_budget: the selector's budget in nats per control step (selector only).
    """

    family: RuleFamily
    alpha: float = 0.0
    kl_budget: float = 0.0

    @property
    def beta(self) -> float:
        """Return the KL-regularisation weight matching ``alpha``."""
        return alpha_to_beta(self.alpha)

    @property
    def label(self) -> str:
        """Return a short name for tables and plots."""
        family = self.family
        if family is RuleFamily.POE:
            return f'PoE α={self.alpha:g}'
        if family is RuleFamily.KL:
            return f'KL β={self.beta:.3g}'
        if family is RuleFamily.ADDITIVE:
            return f'additive α={self.alpha:g}'
        if family is RuleFamily.SELECTOR:
            return f'selector ε={self.kl_budget:g}'
        return 'prior-only' if family is RuleFamily.PRIOR_ONLY else 'frozen'

    def steering_config(self) -> SteeringConfig:
        """Return the Steerer settings: mean actions, no ramp, the evaluation prior."""
        family = self.family
        rule = Rule.POE if family is RuleFamily.SELECTOR else Rule(family.value)
        return SteeringConfig(
            rule=rule, alpha=self.alpha, beta=self.beta,
            kl_budget=self.kl_budget, alpha_ramp_s=0.0, prior=PriorConfig(type=PriorType.LEARNED),
            action_mode=ActionMode.MEAN)


FROZEN = RuleSpec(RuleFamily.FROZEN)
PRIOR_ONLY = RuleSpec(RuleFamily.PRIOR_ONLY)


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """
    Everything that defines an evaluation run (written into the report).

    Noise scales and prior stds are in normalised-action units (fractions of the command
    half-range); shifts are distances (m) of the deployment goals from the training goal region.
    """

    seeds: tuple[int, ...] = (0, 1, 2, 3)
    episodes_per_seed: int = 10
    max_episode_s: float = 20.0
    alphas: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
    kl_budgets: tuple[float, ...] = (0.05, 0.2, 1.0)
    kl_alphas: tuple[float, ...] | None = None
    """The alphas whose matching KL-reg rule the grid runs (None: every alpha)."""
    sweep_alpha: float = 0.5
    """The alpha of the PoE, KL-reg and additive rules in the noise and shift sweeps."""
    sweep_kl_budget: float = 0.2
    """The selector budget in the noise and shift sweeps."""
    grid_noise: float = 2.0
    noise_scales: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    grid_shifts_m: tuple[float, ...] = (0.0, 1.0)
    shifts_m: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5)
    shift_tolerance_m: float = 0.1
    """Half-width of the band of goal distances accepted for a shift."""
    training_shift: float = 0.0
    """The shift that is the actor's training condition (its competence is read there)."""
    noise_shift: float = 0.0
    """The shift of the prior-noise sweep."""
    shift_unit: str = 'm'
    """What a shift value counts, for the findings' text."""
    priors: PriorSettings = PriorSettings()
    resamples: int = 2000
    level: float = 0.95
    workers: int = 2

    def __post_init__(self) -> None:
        """Check counts, weights and distances; raise ValueError naming the field."""
        if len(self.seeds) < 1 or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f'seeds must be distinct and at least one, got {self.seeds}')
        if self.episodes_per_seed < 1 or len(self.seeds) * self.episodes_per_seed < 2:
            raise ValueError('episodes_per_seed: need at least 2 episodes per cell in total, '
                             f'got {len(self.seeds)} seeds x {self.episodes_per_seed}')
        if not all(0.0 < alpha < 1.0 for alpha in (*self.alphas, self.sweep_alpha)):
            raise ValueError(f'alphas and sweep_alpha must lie in (0, 1), got {self.alphas} and '
                             f'{self.sweep_alpha}')
        if not all(budget > 0.0 for budget in (*self.kl_budgets, self.sweep_kl_budget)):
            raise ValueError('kl_budgets and sweep_kl_budget must be > 0 nats')
        if not all(noise > 0.0 for noise in (*self.noise_scales, self.grid_noise)):
            raise ValueError('noise_scales and grid_noise must be > 0')
        if not all(shift >= 0.0 for shift in (*self.shifts_m, *self.grid_shifts_m)):
            raise ValueError('shifts_m and grid_shifts_m must be >= 0 m')
        if self.workers < 1:
            raise ValueError(f'workers must be >= 1, got {self.workers}')

    @property
    def episodes_per_cell(self) -> int:
        """Return the number of paired episodes behind every verdict."""
        return len(self.seeds) * self.episodes_per_seed

    def grid_priors(self) -> tuple[PriorSpec, ...]:
        """Return the grid's prior quality levels."""
        return (ORACLE, PriorSpec(PriorKind.DEGRADED, self.grid_noise, Flavour.HONEST),
                PriorSpec(PriorKind.DEGRADED, self.grid_noise, Flavour.OVERCONFIDENT), RANDOM)

    def noise_priors(self, flavour: Flavour) -> tuple[PriorSpec, ...]:
        """Return the noise sweep of one flavour, starting with the oracle (noise 0)."""
        return (ORACLE, *(PriorSpec(PriorKind.DEGRADED, noise, flavour)
                          for noise in self.noise_scales))

    def grid_rules(self) -> tuple[RuleSpec, ...]:
        """Return every rule of the protocol."""
        cap = max(self.alphas)
        return (FROZEN,
                *(RuleSpec(RuleFamily.POE, alpha) for alpha in self.alphas),
                *(RuleSpec(RuleFamily.KL, alpha) for alpha in (
                    self.alphas if self.kl_alphas is None else self.kl_alphas)),
                *(RuleSpec(RuleFamily.ADDITIVE, alpha) for alpha in self.alphas),
                PRIOR_ONLY,
                *(RuleSpec(RuleFamily.SELECTOR, cap, budget) for budget in self.kl_budgets))

    def sweep_rules(self) -> tuple[RuleSpec, ...]:
        """Return the rules of the noise and shift sweeps."""
        return (FROZEN, RuleSpec(RuleFamily.POE, self.sweep_alpha),
                RuleSpec(RuleFamily.KL, self.sweep_alpha),
                RuleSpec(RuleFamily.ADDITIVE, self.sweep_alpha), PRIOR_ONLY,
                RuleSpec(RuleFamily.SELECTOR, max(self.alphas), self.sweep_kl_budget))

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as plain data for the report."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Cell:
    """An actor facing a prior at an objective shift; ``prior`` is None for the frozen run."""

    actor: str
    prior: PriorSpec | None
    shift_m: float


@dataclasses.dataclass(frozen=True)
class RunKey:
    """One cell under one rule. Frozen runs ignore the prior, so they share ``prior=None``."""

    cell: Cell
    rule: RuleSpec

    @classmethod
    def of(cls, actor: str, prior: PriorSpec, shift_m: float, rule: RuleSpec) -> RunKey:
        """Return the key, dropping the prior of the frozen rule."""
        kept = None if rule.family is RuleFamily.FROZEN else prior
        return cls(Cell(actor, kept, float(shift_m)), rule)

    def frozen(self) -> RunKey:
        """Return the frozen run these episodes are paired with."""
        return RunKey(Cell(self.cell.actor, None, self.cell.shift_m), FROZEN)


def plan_runs(config: EvalConfig, actors: Sequence[str]) -> list[RunKey]:
    """Return every run of the three blocks once, in a stable order."""
    runs: dict[RunKey, None] = {}
    for actor in actors:
        for prior in config.grid_priors():
            for shift in config.grid_shifts_m:
                runs.update((RunKey.of(actor, prior, shift, rule), None)
                            for rule in config.grid_rules())
        for flavour in Flavour:
            for prior in config.noise_priors(flavour):
                runs.update((RunKey.of(actor, prior, config.noise_shift, rule), None)
                            for rule in config.sweep_rules())
        for shift in config.shifts_m:
            runs.update((RunKey.of(actor, ORACLE, shift, rule), None)
                        for rule in config.sweep_rules())
    return list(runs)


@dataclasses.dataclass(frozen=True)
class Episode:
    """One planned episode: its seed (environment, prior noise), start pose and goal."""

    seed: int
    start: Pose2D
    goal: np.ndarray


def shift_distance(world: World, points: np.ndarray) -> np.ndarray:
    """Return each point's distance (m) from the training goal region (0 inside it)."""
    region = world.goal_region
    dx = np.maximum(np.maximum(region.x_min_m - points[:, 0], points[:, 0] - region.x_max_m), 0.0)
    dy = np.maximum(np.maximum(region.y_min_m - points[:, 1], points[:, 1] - region.y_max_m), 0.0)
    return np.hypot(dx, dy)


def sample_shifted_goal(world: World, shift_m: float, rng: np.random.Generator,
                        tolerance_m: float, clearance_m: float = 0.35,
                        batch: int = 4096, max_batches: int = 50) -> np.ndarray:
    """
    Draw a goal uniformly among free points ``shift_m +- tolerance_m`` from the training region.

    Shift 0 draws from the training region itself (``World.sample_goal``). Candidates come from
    the arena (or the region grown by the shift when there is none).

    :raises ValueError: when no free point lies at that distance.
    """
    if shift_m == 0.0:
        return world.sample_goal(rng, clearance_m)
    region = world.goal_region
    bounds = world.arena or dataclasses.replace(
        region, x_min_m=region.x_min_m - shift_m - tolerance_m,
        x_max_m=region.x_max_m + shift_m + tolerance_m,
        y_min_m=region.y_min_m - shift_m - tolerance_m,
        y_max_m=region.y_max_m + shift_m + tolerance_m)
    low, high = [bounds.x_min_m, bounds.y_min_m], [bounds.x_max_m, bounds.y_max_m]
    for _ in range(max_batches):
        points = rng.uniform(low, high, size=(batch, 2))
        near = points[np.abs(shift_distance(world, points) - shift_m) <= tolerance_m]
        for point in near:
            if world.clearance(point[0], point[1]) >= clearance_m:
                return point
    raise ValueError(f'shift_m={shift_m}: no goal {clearance_m} m clear of obstacles lies '
                     f'{shift_m} +- {tolerance_m} m from the training goal region')


def plan_episodes(world: World, shift_m: float, seed: int, count: int,
                  tolerance_m: float) -> list[Episode]:
    """
    Return the episodes of one (shift, seed): the same for every actor, prior and rule.

    Seeds and jittered start poses follow the dataset's plan (``offline.dataset``); goals lie
    ``shift_m`` from the training goal region.
    """
    entropy = np.random.SeedSequence([seed, round(shift_m * 1000)])
    plan_seed = int(entropy.generate_state(1)[0] % (2**31 - 1))
    seeds, poses = episode_plan(DatasetConfig(episodes=count, seed=plan_seed), world)
    rng = np.random.default_rng(entropy.spawn(1)[0])
    return [Episode(episode_seed, pose,
                    sample_shifted_goal(world, shift_m, rng, tolerance_m))
            for episode_seed, pose in zip(seeds, poses)]


TELEMETRY_FIELDS = ('mean_alpha', 'mean_kl', 'mean_actor_std')
"""Per-episode means of the Steerer's telemetry: weight used (alpha units), KL(composed ||
actor) in nats, and the actor's pre-squash std (mean over action dimensions)."""
EPISODE_FIELDS = ('episode_return', 'success', 'collision', 'steps', 'start_distance',
                  *TELEMETRY_FIELDS)
"""Per-episode numbers a run records, in column order."""


def steered_policy(actor: FrozenActor, rule: RuleSpec, prior: EvalPrior) -> SteererPolicy:
    """Return the protocol's policy: ``rule`` steering ``actor`` with ``prior`` learned."""
    return SteererPolicy(actor, actor.observation_layout.build, envelope_for(actor),
                         rule.steering_config(), learned_prior=prior)


def telemetry_means(telemetry: Sequence[Telemetry]) -> np.ndarray:
    """Return an episode's means of ``TELEMETRY_FIELDS`` (zeros for an episode of no tick)."""
    if not telemetry:
        return np.zeros(len(TELEMETRY_FIELDS))
    return np.mean([(tick.alpha, tick.kl_to_actor, float(np.mean(tick.actor_std)))
                    for tick in telemetry], axis=0)


@dataclasses.dataclass(frozen=True)
class RunResult:
    """The per-episode numbers of one run, episodes ordered by seed then plan."""

    values: np.ndarray
    """``(episodes, len(EPISODE_FIELDS))``."""

    def column(self, name: str) -> np.ndarray:
        """Return one field over the episodes."""
        return self.values[:, EPISODE_FIELDS.index(name)]

    @property
    def returns(self) -> np.ndarray:
        """Return each episode's return: progress to the goal minus collision penalties."""
        return self.column('episode_return')


class Scenario(Protocol):
    """
    The task the protocol runs in: its episodes, its oracle and how an episode is played.

    A scenario is pickled into every worker, so it holds settings only and builds its
    environments lazily (once per process).
    """

    def oracle(self, scale: ActionScale, std: float) -> ExpertPrior:
        """Return the oracle prior of this task (std in normalised-action units)."""
        ...

    def play(self, policy: SteererPolicy, shift: float, seed: int,
             config: EvalConfig) -> list[tuple[float, ...]]:
        """
        Play the episodes of one (shift, seed), the same for every actor, prior and rule.

        :returns: per episode the fields of ``EPISODE_FIELDS``.
        """
        ...


@dataclasses.dataclass(frozen=True)
class DiffDriveScenario:
    """The project's MuJoCo diff-drive world; shifts are distances (m) from the goal region."""

    def oracle(self, scale: ActionScale, std: float) -> ExpertPrior:
        """Return the expert planner of the default world."""
        return _diff_drive_oracle(tuple(scale.low), tuple(scale.high), std)

    def play(self, policy: SteererPolicy, shift: float, seed: int,
             config: EvalConfig) -> list[tuple[float, ...]]:
        """Play the planned episodes in the diff-drive world."""
        env = _diff_drive_env(config.max_episode_s)
        rows = []
        for episode in _episodes(shift, seed, config.episodes_per_seed,
                                 config.shift_tolerance_m):
            record = run_episode(policy, env, episode.goal, episode.seed, episode.start)
            start_distance = math.hypot(*(record.goal - record.states[0, :2]))
            rows.append((record.episode_return, record.success, record.collisions > 0,
                         record.steps, start_distance, *telemetry_means(policy.telemetry)))
        return rows


DIFF_DRIVE = DiffDriveScenario()


@dataclasses.dataclass(frozen=True)
class _Task:
    """One worker job: a run on the episodes of one seed."""

    key: RunKey
    seed: int
    manifest: str
    config: EvalConfig
    scenario: Scenario
    cache: str | None = None
    """Folder of finished tasks (None: no cache), so an interrupted protocol resumes."""

    def cache_path(self) -> pathlib.Path | None:
        """Return where this task's rows are cached, keyed by everything that shapes them."""
        if self.cache is None:
            return None
        config = self.config
        key = repr((self.scenario, sha256_of(self.manifest), self.key, self.seed,
                    config.episodes_per_seed, config.priors, config.max_episode_s,
                    config.shift_tolerance_m))
        return pathlib.Path(self.cache) / f'{hashlib.sha256(key.encode()).hexdigest()[:20]}.npz'


@functools.lru_cache(maxsize=None)
def _actor(manifest: str) -> FrozenActor:
    """Load each actor once per process (single-threaded torch: workers share 2 cores)."""
    return load_actor(manifest, device='cpu', num_threads=1, warmup_passes=0)


@functools.lru_cache(maxsize=None)
def _diff_drive_env(max_episode_s: float) -> DiffDriveEnv:
    """Build the environment once per process."""
    return DiffDriveEnv(default_world(), max_episode_s=max_episode_s)


@functools.lru_cache(maxsize=None)
def _diff_drive_oracle(low: tuple[float, ...], high: tuple[float, ...],
                       std: float) -> OraclePrior:
    """Build the oracle's planner once per process."""
    return OraclePrior(default_world(), ActionScale(np.array(low), np.array(high)), std)


@functools.lru_cache(maxsize=64)
def _episodes(shift_m: float, seed: int, count: int, tolerance_m: float) -> list[Episode]:
    """Plan each (shift, seed) once per process."""
    return plan_episodes(default_world(), shift_m, seed, count, tolerance_m)


def envelope_for(actor: FrozenActor) -> SafetyEnvelope:
    """Return the evaluation envelope: the actor's command bounds, no rate limit, alpha_max 1."""
    return SafetyEnvelope(actor.action_low, actor.action_high,
                          np.full(actor.action_dim, math.inf))


def _run_task(task: _Task) -> tuple[RunKey, int, np.ndarray, float]:
    """Play one run's episodes of one seed (or read them from the cache); return their numbers."""
    path = task.cache_path()
    if path is not None and path.is_file():
        with np.load(path) as cached:
            return task.key, task.seed, cached['rows'], float(cached['seconds'])
    started = time.perf_counter()
    rows = _play_task(task)
    seconds = time.perf_counter() - started
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.stem + '.part.npz')
        np.savez(partial, rows=rows, seconds=seconds)
        partial.replace(path)
    return task.key, task.seed, rows, seconds


def _play_task(task: _Task) -> np.ndarray:
    config = task.config
    actor = _actor(task.manifest)
    scale = ActionScale(actor.action_low, actor.action_high)
    oracle = task.scenario.oracle(scale, config.priors.oracle_std)
    prior = build_prior(task.key.cell.prior or ORACLE, oracle, scale, config.priors)
    policy = steered_policy(actor, task.key.rule, prior)
    rows = task.scenario.play(policy, task.key.cell.shift_m, task.seed, config)
    return np.array(rows, dtype=np.float64)


def run_seeds(config: EvalConfig, key: RunKey,
              extra_seeds: Mapping[Cell, int]) -> tuple[int, ...]:
    """
    Return the seeds a run plays: the configured ones, then its cell's extra seeds.

    Extra seeds continue after the largest configured seed. A frozen run is shared by every
    cell of its actor and shift, so it plays the most extra seeds any of them asks for; the
    episodes of each seed are the same for every rule, so every run's episodes are a prefix
    of its frozen run's.
    """
    if key.rule.family is RuleFamily.FROZEN:
        count = max((extra for cell, extra in extra_seeds.items()
                     if (cell.actor, cell.shift_m) == (key.cell.actor, key.cell.shift_m)),
                    default=0)
    else:
        count = extra_seeds.get(key.cell, 0)
    first = max(config.seeds) + 1
    return (*config.seeds, *range(first, first + count))


def _tasks(config: EvalConfig, seeds: Mapping[RunKey, tuple[int, ...]],
           manifests: Mapping[str, pathlib.Path], scenario: Scenario,
           cache: pathlib.Path | None) -> list[_Task]:
    return [_Task(key, seed, str(manifests[key.cell.actor]), config, scenario,
                  None if cache is None else str(cache))
            for key, key_seeds in seeds.items() for seed in key_seeds]


def _execute(tasks: Sequence[_Task], workers: int,
             progress: bool) -> Iterator[tuple[RunKey, int, np.ndarray, float]]:
    bar = functools.partial(tqdm.tqdm, total=len(tasks), desc='eval', disable=not progress,
                            smoothing=0.05)
    if workers == 1:
        yield from bar(map(_run_task, tasks))
        return
    # spawn, not fork: the parent may have trained actors with torch threads running.
    with multiprocessing.get_context('spawn').Pool(workers) as pool:
        yield from bar(pool.imap_unordered(_run_task, tasks, chunksize=1))


def run_protocol(config: EvalConfig, manifests: Mapping[str, pathlib.Path],
                 progress: bool = False, scenario: Scenario = DIFF_DRIVE,
                 cache: pathlib.Path | None = None,
                 task_seconds: list[float] | None = None,
                 extra_seeds: Mapping[Cell, int] | None = None) -> dict[RunKey, RunResult]:
    """
    Play every run of the protocol for the given actors.

    :param config: the protocol's settings.
    :param manifests: actor name -> manifest path, in the order tables should list them.
    :param progress: show a progress bar.
    :param scenario: the task (default: the diff-drive world).
    :param cache: folder keeping every finished (run, seed) task, reused by later calls.
    :param task_seconds: if given, receives each task's play time (s), cached ones included.
    :param extra_seeds: seeds to play beyond ``config.seeds`` in some cells (see
        ``run_seeds``), so that a later call with a cache plays only the new episodes.
    :returns: the per-episode results of every run (see ``plan_runs``), episodes in seed order.
    :raises ValueError: if ``manifests`` is empty.
    """
    if not manifests:
        raise ValueError('manifests: need at least one actor to evaluate')
    seeds = {key: run_seeds(config, key, extra_seeds or {})
             for key in plan_runs(config, list(manifests))}
    parts: dict[RunKey, dict[int, np.ndarray]] = {key: {} for key in seeds}
    tasks = _tasks(config, seeds, manifests, scenario, cache)
    for key, seed, rows, seconds in _execute(tasks, config.workers, progress):
        parts[key][seed] = rows
        if task_seconds is not None:
            task_seconds.append(seconds)
    return {key: RunResult(np.concatenate([parts[key][seed] for seed in key_seeds]))
            for key, key_seeds in seeds.items()}
