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
The offline training pipeline of a goal-conditioned frozen actor (``poe-steer-lab train``).

dataset (``offline.dataset``) -> d3rlpy CQL -> TorchScript ``(mean, log_std)`` + manifest with
SHA-256 and provenance (``offline.export``) -> closed-loop evaluation of the exported file, loaded
as the node loads it, on goals of the training region and on shifted goals outside it.

CQL is the default because its SAC-style tanh-Gaussian actor has a state-dependent std, so the
PoE fusion weight adapts per state; IQL (state-independent std) is available for comparison.
One seed drives the dataset, the network initialisation and the minibatch order; the
evaluation goals come from fixed seeds, so actors trained with different seeds meet the same
goals.

``TrainConfig.seeing`` trains the actor that sees: its observation holds scan features instead
of the absolute pose, its data come from random obstacle layouts (``offline.dataset``), and its
bundle carries a support model of the training observations (``core.support``). The blind actor
(the default) knows one layout by heart, through its pose.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import logging
import math
import pathlib
import platform
import sys
import time
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
from poe_steer_lab.offline.dataset import (ACTION_NAMES, DatasetConfig, describe,
                                           generate_episodes, OBSERVATION_FIELDS, SCAN_BINS,
                                           SCAN_RANGE_M, SEEING_OBSERVATION_FIELDS,
                                           to_mdp_dataset)
from poe_steer_lab.offline.export import export_actor
from poe_steer_lab.offline.rollout import (ActorPolicy, EpisodeRecord, EpisodeSummary,
                                           plot_trajectories, run_episodes, summarize)
from poe_steer_ros.core.actor import load_actor
from poe_steer_ros.core.manifest import ModelFormat, Provenance
from poe_steer_ros.core.scan import ScanBinning
from poe_steer_ros.core.support import SupportModel
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW, DiffDriveEnv
from poe_steer_sim.world import default_world, LayoutConfig, World
import torch
import yaml

EVAL_SEED_BASE = 1_000_000
"""Evaluation episode ``i`` of a goal set uses seed ``EVAL_SEED_BASE + i`` (any training seed)."""
SHIFTED_GOALS: Mapping[str, tuple[float, float]] = {
    'y+1.5': (2.75, 1.5),
    'y-1.5': (2.75, -1.5),
    'y+2.0': (2.75, 2.0),
    'y-2.0': (2.75, -2.0),
    'x4.5': (4.5, 0.0),
    'x5.0': (5.0, 0.0),
    'behind': (-1.0, 0.0),
}
"""Centres of the shifted evaluation goals (x, y in m): beside, beyond and behind the region."""
SHIFT_JITTER_M = 0.2
"""Shifted goals are drawn uniformly within +- this of their centre (m)."""
TRAINING_REGION = 'training region'
PLOTTED_TRAINING_EPISODES = 6
PLOTTED_SHIFTED_EPISODES = 2
"""Trajectories drawn in the report's plot: training region, and per shifted goal set."""


class Algorithm(str, enum.Enum):
    """The d3rlpy algorithms the pipeline can train."""

    CQL = 'cql'
    """Conservative Q-learning; tanh-Gaussian actor with a state-dependent std."""
    IQL = 'iql'
    """Implicit Q-learning; Gaussian actor whose std is one learned vector (state-independent)."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """
    Everything that determines the trained actor, and the evaluation budget.

    :ivar seed: seeds the dataset, the network initialisation and minibatch sampling.
    """

    seed: int = 0
    episodes: int = 1000
    """Behaviour episodes in the dataset."""
    max_episode_s: float = 30.0
    """Time limit of dataset and evaluation episodes (s)."""
    algorithm: Algorithm = Algorithm.CQL
    n_steps: int = 5000
    """Gradient steps."""
    epochs: int = 10
    """Reporting periods: one progress bar and one row of losses in the report each."""
    batch_size: int = 256
    actor_hidden: tuple[int, ...] = (256, 256)
    critic_hidden: tuple[int, ...] = (256, 256)
    n_action_samples: int = 4
    """CQL: actions sampled per state for the conservative log-sum-exp (d3rlpy default 10)."""
    conservative_weight: float = 5.0
    """CQL: weight of the conservative penalty (d3rlpy default)."""
    expectile: float = 0.7
    """IQL: expectile of the value regression (d3rlpy default)."""
    weight_temp: float = 3.0
    """IQL: inverse temperature of the advantage-weighted actor loss (d3rlpy default)."""
    eval_episodes: int = 100
    """Episodes from the start pose to goals of the training region."""
    shifted_episodes: int = 20
    """Episodes per shifted goal set (``SHIFTED_GOALS``)."""
    seeing: bool = False
    """Train the actor that sees (scan features, random layouts, support model)."""
    torch_threads: int = 1
    """
    Torch CPU threads while training. One is robust on a shared machine (more threads than free
    cores make torch's OpenMP workers spin: ten times slower) and fixes the summation order, so
    results do not depend on the machine's core count.
    """

    def __post_init__(self) -> None:
        """Coerce the algorithm and check counts; raise ValueError naming the field."""
        try:
            object.__setattr__(self, 'algorithm', Algorithm(self.algorithm))
        except ValueError:
            raise ValueError(f'algorithm must be one of {[a.value for a in Algorithm]}, got '
                             f'{self.algorithm!r}') from None
        for name in ('seed', 'episodes', 'n_steps', 'epochs', 'batch_size', 'n_action_samples',
                     'eval_episodes', 'shifted_episodes', 'torch_threads'):
            value = getattr(self, name)
            minimum = 0 if name in ('seed', 'shifted_episodes') else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')
        if self.n_steps < self.epochs:
            raise ValueError(f'n_steps ({self.n_steps}) must be >= epochs ({self.epochs})')
        for name in ('actor_hidden', 'critic_hidden'):
            sizes = getattr(self, name)
            if not sizes or not all(isinstance(size, int) and size > 0 for size in sizes):
                raise ValueError(f'{name} must be positive layer widths, got {sizes!r}')

    @classmethod
    def quick(cls, seed: int = 0) -> TrainConfig:
        """Return a tiny budget that runs the whole pipeline in seconds (tests, smoke checks)."""
        return cls(seed=seed, episodes=6, max_episode_s=10.0, n_steps=200, epochs=2,
                   batch_size=64, actor_hidden=(64, 64), critic_hidden=(64, 64),
                   n_action_samples=2, eval_episodes=3, shifted_episodes=1)

    @classmethod
    def seeing_actor(cls, seed: int = 0) -> TrainConfig:
        """
        Return the recipe of the shipped seeing actor.

        Half-width networks and 3000 CQL steps: its 18 inputs carry no layout to memorise, and
        the budget has to fit a shared 2-core machine.
        """
        return cls(seed=seed, seeing=True, n_steps=3000, actor_hidden=(128, 128),
                   critic_hidden=(128, 128))

    def dataset_config(self) -> DatasetConfig:
        """Return the dataset this config trains on."""
        return DatasetConfig(episodes=self.episodes, seed=self.seed,
                             max_episode_s=self.max_episode_s,
                             layouts=LayoutConfig() if self.seeing else None)

    @property
    def observation_fields(self) -> tuple[str, ...]:
        """Return the actor's observation fields."""
        return SEEING_OBSERVATION_FIELDS if self.seeing else OBSERVATION_FIELDS

    def hyperparameters(self) -> dict[str, Any]:
        """Return the algorithm's key hyper-parameters (for the manifest's provenance)."""
        common = {'n_steps': self.n_steps, 'batch_size': self.batch_size,
                  'actor_hidden': list(self.actor_hidden),
                  'critic_hidden': list(self.critic_hidden), 'gamma': 0.99,
                  'observation_scaler': 'standard', 'action_scaler': 'min_max (command bounds)'}
        if self.algorithm is Algorithm.CQL:
            return {**common, 'n_action_samples': self.n_action_samples,
                    'conservative_weight': self.conservative_weight}
        return {**common, 'expectile': self.expectile, 'weight_temp': self.weight_temp}


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What ``train`` produced."""

    manifest_path: pathlib.Path
    report_path: pathlib.Path
    plot_path: pathlib.Path
    evaluation: dict[str, EpisodeSummary]
    """Goal set (``training region`` or a ``SHIFTED_GOALS`` key) -> summary."""
    wall_time_s: float


SEEING_OBJECTIVE = ('reach goals anywhere in an arena from any free start pose, avoiding the '
                    'obstacles the lidar shows, in random obstacle layouts')


def objective(world: World, seeing: bool = False) -> str:
    """Return the training objective stated in the manifest."""
    if seeing:
        return SEEING_OBJECTIVE
    region = world.goal_region
    return (f'reach goals in the training region x in [{region.x_min_m:g}, {region.x_max_m:g}], '
            f'y in [{region.y_min_m:g}, {region.y_max_m:g}] from the start pose, avoiding '
            'obstacles')


def build_algorithm(config: TrainConfig, action_low: Sequence[float] = COMMAND_LOW,
                    action_high: Sequence[float] = COMMAND_HIGH) -> Any:
    """Return the configured (unfitted) d3rlpy algorithm on the CPU (default: command bounds)."""
    import d3rlpy

    scalers = {
        'observation_scaler': d3rlpy.preprocessing.StandardObservationScaler(),
        'action_scaler': d3rlpy.preprocessing.MinMaxActionScaler(
            minimum=np.array(action_low), maximum=np.array(action_high)),
    }
    actor = d3rlpy.models.VectorEncoderFactory(list(config.actor_hidden))
    critic = d3rlpy.models.VectorEncoderFactory(list(config.critic_hidden))
    if config.algorithm is Algorithm.CQL:
        algo_config: Any = d3rlpy.algos.CQLConfig(
            batch_size=config.batch_size, actor_encoder_factory=actor,
            critic_encoder_factory=critic, n_action_samples=config.n_action_samples,
            conservative_weight=config.conservative_weight, **scalers)
    else:
        algo_config = d3rlpy.algos.IQLConfig(
            batch_size=config.batch_size, actor_encoder_factory=actor,
            critic_encoder_factory=critic, value_encoder_factory=critic,
            expectile=config.expectile, weight_temp=config.weight_temp, **scalers)
    return algo_config.create(device='cpu:0')


@contextlib.contextmanager
def reproducible_and_quiet(seed: int, threads: int) -> Iterator[None]:
    """
    Seed every generator d3rlpy uses, fix torch's threads and deterministic ops, mute d3rlpy.

    Torch settings and the structlog configuration are process-wide: they are restored on exit.
    """
    import d3rlpy
    import structlog

    saved_logging = structlog.get_config()
    saved_threads = torch.get_num_threads()
    saved_deterministic = torch.are_deterministic_algorithms_enabled()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    d3rlpy.seed(seed)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved_deterministic)
        torch.set_num_threads(saved_threads)
        structlog.configure(**saved_logging)


def _eval_plan(config: TrainConfig, world: World) -> dict[str, tuple[list[Any], list[int]]]:
    """Return goal set -> (goals, seeds): None goals are sampled in the region by the seed."""
    plan: dict[str, tuple[list[Any], list[int]]] = {
        TRAINING_REGION: ([None] * config.eval_episodes,
                          [EVAL_SEED_BASE + i for i in range(config.eval_episodes)])}
    seeds = [EVAL_SEED_BASE + i for i in range(config.shifted_episodes)]
    for offset, (name, centre) in enumerate(SHIFTED_GOALS.items()):
        jitter = np.random.default_rng(EVAL_SEED_BASE + offset).uniform(
            -SHIFT_JITTER_M, SHIFT_JITTER_M, size=(config.shifted_episodes, 2))
        plan[name] = ([np.add(centre, offset_xy) for offset_xy in jitter], seeds)
    return plan


def region_distance(world: World, goal: Sequence[float]) -> float:
    """Return the distance (m) from a goal to the training goal region (0 inside)."""
    region = world.goal_region
    dx = max(region.x_min_m - goal[0], 0.0, goal[0] - region.x_max_m)
    dy = max(region.y_min_m - goal[1], 0.0, goal[1] - region.y_max_m)
    return math.hypot(dx, dy)


def evaluate(manifest_path: pathlib.Path, config: TrainConfig, world: World,
             progress: bool = True) -> dict[str, list[EpisodeRecord]]:
    """
    Run the exported actor alone (its mean) from the world's start pose on every goal set.

    :returns: goal set -> episode records.
    """
    actor = load_actor(manifest_path, device='cpu', num_threads=None, warmup_passes=0)
    policy = ActorPolicy(actor, actor.observation_layout.build)
    env = DiffDriveEnv(world, max_episode_s=config.max_episode_s,
                       scan=ScanBinning(SCAN_BINS, SCAN_RANGE_M) if config.seeing else None)
    return {name: run_episodes(policy, env, goals, seeds,
                               progress=f'eval {name}' if progress else None)
            for name, (goals, seeds) in _eval_plan(config, world).items() if seeds}


def train(config: TrainConfig, out_dir: str | pathlib.Path, name: str = 'actor',
          report_dir: str | pathlib.Path | None = None, world: World | None = None,
          progress: bool = True) -> TrainResult:
    """
    Generate the dataset, train, export and evaluate one actor.

    Writes ``<out_dir>/<name>.pt`` (TorchScript), ``<name>.onnx`` and their one manifest
    ``<name>.pt.yaml`` (the ONNX file is its alternative: the CPU runs it), and into ``report_dir``
    (default ``out_dir``) ``<name>.train.yaml`` (dataset, hyper-parameters, losses, evaluation,
    wall time) and ``<name>_trajectories.png``.

    :param config: dataset, algorithm and evaluation settings.
    :param out_dir: directory of the model and its manifest (created if needed).
    :param name: file stem of the artifacts.
    :param report_dir: directory of the report and the plot (created if needed).
    :param world: the world (default: ``config/sim_world.yaml``).
    :param progress: show tqdm progress bars.
    :returns: paths, evaluation summaries and the wall time.
    :raises ValueError: for a ``name`` that is not a plain file stem.
    """
    if not name or '/' in name:
        raise ValueError(f'name must be a plain file stem, got {name!r}')
    started = time.perf_counter()
    world = default_world() if world is None else world
    report_dir = pathlib.Path(out_dir if report_dir is None else report_dir)
    dataset_config = config.dataset_config()
    with reproducible_and_quiet(config.seed, config.torch_threads):
        records = generate_episodes(dataset_config, world, 'dataset' if progress else None)
        dataset_info = describe(dataset_config, records, world)
        algo = build_algorithm(config)
        dataset = to_mdp_dataset(records, config.observation_fields)
        history = algo.fit(dataset, n_steps=config.n_steps,
                           n_steps_per_epoch=config.n_steps // config.epochs,
                           show_progress=progress, logger_adapter=_noop_logger())
        training_s = time.perf_counter() - started
        provenance = Provenance.now(
            _dataset_line(dataset_info), f'd3rlpy {_d3rlpy_version()} {config.algorithm.name}',
            objective(world, config.seeing), config.seed, dataset_details=dataset_info,
            hyperparameters=config.hyperparameters())
        support = SupportModel.fit(_observations(dataset), seed=config.seed) \
            if config.seeing else None
        manifests = export_actor(algo, out_dir, observation_fields=config.observation_fields,
                                 action_names=ACTION_NAMES, provenance=provenance, name=name,
                                 formats=('torchscript', 'onnx'), single_manifest=True,
                                 scan_range_m=SCAN_RANGE_M if config.seeing else None,
                                 support=support)
        manifest_path = manifests[ModelFormat.TORCHSCRIPT]
        evaluation = evaluate(manifest_path, config, world, progress)
    report_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot_trajectories(
        world, {group: records[:PLOTTED_TRAINING_EPISODES if group == TRAINING_REGION
                               else PLOTTED_SHIFTED_EPISODES]
                for group, records in evaluation.items()},
        report_dir / f'{name}_trajectories.png',
        title=f'{name}: unsteered actor, training region and shifted goals')
    summaries = {group: summarize(records) for group, records in evaluation.items()}
    wall_time_s = time.perf_counter() - started
    report = {
        'manifest': str(manifest_path), 'config': _plain(dataclasses.asdict(config)),
        'dataset': dataset_info,
        'losses': [_plain({'epoch': epoch, **metrics}) for epoch, metrics in history],
        'evaluation': {group: {'mean_region_distance_m': round(float(np.mean(
            [region_distance(world, r.goal) for r in records])), 3),
            **summaries[group].to_dict()} for group, records in evaluation.items()},
        'dataset_and_training_s': round(training_s, 1), 'wall_time_s': round(wall_time_s, 1),
        'machine': {'python': platform.python_version(), 'torch': str(torch.__version__),
                    'numpy': np.__version__, 'd3rlpy': _d3rlpy_version(), 'argv': sys.argv},
    }
    report_path = report_dir / f'{name}.train.yaml'
    report_path.write_text(yaml.safe_dump(report, sort_keys=False), encoding='utf-8')
    return TrainResult(manifest_path, report_path, plot_path, summaries, wall_time_s)


def format_summary(result: TrainResult) -> str:
    """Return the evaluation as a markdown table, one row per goal set."""
    lines = ['| goals | episodes | success | collisions | time to goal (s) | final distance (m) |',
             '|---|---:|---:|---:|---:|---:|']
    for group, summary in result.evaluation.items():
        time_s = '-' if summary.mean_time_to_goal_s is None else \
            f'{summary.mean_time_to_goal_s:.1f}'
        lines.append(f'| {group} | {summary.episodes} | {summary.success_rate:.0%} | '
                     f'{summary.collision_rate:.0%} | {time_s} | '
                     f'{summary.mean_final_distance:.2f} |')
    return '\n'.join(lines)


def _observations(dataset: Any) -> np.ndarray:
    """Return every observation of a d3rlpy dataset as one ``(N, D)`` array."""
    return np.concatenate([episode.observations for episode in dataset.episodes])


def _noop_logger() -> Any:
    """Return d3rlpy's logger that writes nothing (no ``d3rlpy_logs/`` in the cwd)."""
    import d3rlpy

    return d3rlpy.logging.NoopAdapterFactory()


def _d3rlpy_version() -> str:
    import d3rlpy

    return str(d3rlpy.__version__)


def _dataset_line(info: Mapping[str, Any]) -> str:
    return (f"{info['name']}: {info['episodes']} episodes, {info['transitions']} transitions "
            f"of a {info['behaviour'].split(':')[0]} to goals {info['goals']}")


def _plain(value: Any) -> Any:
    """Return ``value`` with enums, tuples and numpy numbers turned into YAML-safe types."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (np.floating, float)):
        return round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    return value
