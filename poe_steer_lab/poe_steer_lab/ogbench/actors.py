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
Frozen PointMaze actors trained offline on task 1, exported through the project's export.

The recipe is d3rlpy IQL on the transitions that OGBench's single-task reward of task 1 marks as
useful: ogbench's loader relabels the regenerated navigate data with that reward (0 at task 1's
goal, -1 elsewhere), and a transition is kept when the goal is reached from it within ``slack``
times the oracle's shortest time from its cell (BFS cells x 20 steps per cell), i.e. filtered
behaviour cloning with advantage weighting. IQL's actor is a Gaussian fitted by (weighted)
likelihood, so its std stays calibrated to the data's noise, unlike d3rlpy's stochastic BC,
whose sampled-action MSE drives the std to zero. A looser slack, a tenth of the data and fewer
gradient steps make the weak actor. The actor reads the point's position only (no goal): it
knows task 1 and nothing else, which is what steering toward goals 2-5 must overcome.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

import numpy as np
from poe_steer_lab.offline.export import export_actor
from poe_steer_lab.offline.train import (Algorithm, build_algorithm, reproducible_and_quiet,
                                         TrainConfig)
from poe_steer_lab.ogbench.dataset import DatasetSpec, load
from poe_steer_lab.ogbench.maze import ACTION_NAMES, MazeGrid, OBSERVATION_FIELDS
from poe_steer_ros.core.manifest import ModelFormat, Provenance
import yaml

STEPS_PER_CELL = 20
"""Steps the oracle needs per maze cell (4 units at 0.2 units per step)."""
TRAINING_TASK = 1
RECIPE_FILE = 'recipe.yaml'


@dataclasses.dataclass(frozen=True)
class FilteredIQL:
    """
    IQL on the transitions that reach the task's goal nearly as fast as the oracle could.

    :param slack: keep a transition if task 1's goal is reached within ``slack`` times the
        oracle's shortest time from its cell.
    :param episode_share: share of the dataset's episodes used (the first ones).
    :param n_steps: gradient steps.
    """

    slack: float = 1.5
    episode_share: float = 1.0
    n_steps: int = 3000
    batch_size: int = 256
    hidden: tuple[int, ...] = (256, 256)
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class ActorPlan:
    """A named actor: what it stands for and its recipe."""

    name: str
    description: str
    recipe: FilteredIQL


def default_actors(quick: bool) -> tuple[ActorPlan, ...]:
    """Return the competent and weaker actors (tiny budgets when ``quick``)."""
    if quick:
        return (ActorPlan('competent', 'filtered IQL (test budget)',
                          FilteredIQL(slack=4.0, n_steps=40, batch_size=64, hidden=(32, 32))),
                ActorPlan('weak', 'filtered IQL, half the data (test budget)',
                          FilteredIQL(slack=4.0, episode_share=0.5, n_steps=20,
                                      batch_size=64, hidden=(32, 32))))
    return (ActorPlan('competent', 'IQL on the transitions reaching goal 1 within 1.5 x the '
                      "oracle's time, all episodes, 3000 gradient steps", FilteredIQL()),
            ActorPlan('weak', "IQL: within 4 x the oracle's time, 10 % of the episodes, 300 "
                      'gradient steps', FilteredIQL(slack=4.0, episode_share=0.1,
                                                    n_steps=300)))


def steps_to_success(rewards: np.ndarray, terminals: np.ndarray) -> np.ndarray:
    """
    Return, per transition, the steps until the next success (reward 0) in its episode.

    ``terminals`` marks each episode's last transition; transitions after the episode's last
    success get a huge number.
    """
    result = np.full(len(rewards), np.iinfo(np.int64).max // 2, dtype=np.int64)
    upcoming = None
    for index in range(len(rewards) - 1, -1, -1):
        if terminals[index] > 0.5:
            upcoming = None
        if rewards[index] == 0.0:
            upcoming = index
        if upcoming is not None:
            result[index] = upcoming - index
    return result


def filtered_dataset(train: dict[str, np.ndarray], recipe: FilteredIQL, grid: MazeGrid,
                     goal_xy: np.ndarray) -> tuple[Any, dict]:
    """
    Return the d3rlpy dataset of the kept transitions and a summary of the filter.

    Kept runs end at the goal (terminal, reward 0) or where the filter cuts them (timeout).
    """
    import d3rlpy

    ends = np.flatnonzero(train['terminals'] > 0.5)
    last = ends[max(int(round(len(ends) * recipe.episode_share)), 1) - 1] + 1
    rewards, terminals = train['rewards'][:last], train['terminals'][:last]
    observations = train['observations'][:last]
    distance = steps_to_success(rewards, terminals)
    goal_distances = grid.distances(grid.cell_of(goal_xy))
    shortest = np.array([goal_distances[grid.cell_of(xy)] for xy in observations])
    keep = distance <= recipe.slack * STEPS_PER_CELL * (np.maximum(shortest, 0) + 1)
    if not (keep & (distance >= 1)).any():
        raise ValueError(f'no transition reaches task {TRAINING_TASK} in time: regenerate a '
                         'larger dataset')
    kept = np.flatnonzero(keep)
    success = distance[kept] == 0
    cut = np.append(np.diff(kept) != 1, True) & ~success
    dataset = d3rlpy.dataset.MDPDataset(
        observations[kept], train['actions'][:last][kept], rewards[kept].reshape(-1, 1),
        success.astype(np.float32), timeouts=cut.astype(np.float32))
    summary = {'episodes': int(len(ends[ends < last])), 'transitions': int(last),
               'kept_transitions': int(len(kept)), 'goal_arrivals': int(success.sum())}
    return dataset, summary


def train_actor(plan: ActorPlan, spec: DatasetSpec, dataset_path: pathlib.Path,
                folder: pathlib.Path, progress: bool = False) -> pathlib.Path:
    """Train the plan's actor unless cached with the same recipe; return its manifest."""
    import d3rlpy

    manifest = folder / f'{plan.name}.pt.yaml'
    recipe_text = yaml.safe_dump(_plain({'dataset': dataclasses.asdict(spec),
                                         'recipe': dataclasses.asdict(plan.recipe)}),
                                 sort_keys=True)
    recipe_path = folder / RECIPE_FILE
    if (manifest.is_file() and recipe_path.is_file()
            and recipe_path.read_text(encoding='utf-8') == recipe_text):
        return manifest
    recipe = plan.recipe
    env, train, _ = load(spec, dataset_path, TRAINING_TASK)
    goal = env.unwrapped.task_infos[TRAINING_TASK - 1]
    mdp, summary = filtered_dataset(train, recipe, MazeGrid(env.unwrapped),
                                    np.array(goal['goal_xy']))
    config = TrainConfig(seed=recipe.seed, algorithm=Algorithm.IQL, n_steps=recipe.n_steps,
                         epochs=1, batch_size=recipe.batch_size, actor_hidden=recipe.hidden,
                         critic_hidden=recipe.hidden)
    with reproducible_and_quiet(recipe.seed, config.torch_threads):
        algo = build_algorithm(config, (-1.0, -1.0), (1.0, 1.0))
        algo.fit(mdp, n_steps=recipe.n_steps, n_steps_per_epoch=recipe.n_steps,
                 show_progress=progress, logger_adapter=d3rlpy.logging.NoopAdapterFactory())
    provenance = Provenance.now(
        f'{spec.name} regenerated locally (seed {spec.seed}, {spec.episodes} episodes), '
        f'filtered with the task{TRAINING_TASK} single-task reward',
        f'd3rlpy {d3rlpy.__version__} IQL on filtered transitions',
        f'OGBench pointmaze-{spec.maze} task {TRAINING_TASK}: from cell {goal["init_ij"]} to '
        f'cell {goal["goal_ij"]}', recipe.seed, dataset_details=summary,
        hyperparameters=_plain({**dataclasses.asdict(recipe),
                                **config.hyperparameters()}))
    folder.mkdir(parents=True, exist_ok=True)
    manifests = export_actor(algo, folder, observation_fields=OBSERVATION_FIELDS,
                             action_names=ACTION_NAMES, provenance=provenance, name=plan.name,
                             formats=(ModelFormat.TORCHSCRIPT,))
    recipe_path.write_text(recipe_text, encoding='utf-8')
    return manifests[ModelFormat.TORCHSCRIPT]


def _plain(value: Any) -> Any:
    """Return nested data with tuples as lists (what YAML and the manifest accept)."""
    return json.loads(json.dumps(value))
