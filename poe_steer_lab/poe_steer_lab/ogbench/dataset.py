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
PointMaze ``navigate`` datasets regenerated locally, in OGBench's file format.

OGBench documents its collection (paper, section on locomotion datasets, and the commands that
reproduce its files): per episode, a start cell drawn from all free cells and a goal drawn from
the maze's non-corridor cells; the scripted point oracle moves toward the next BFS subgoal, with
Gaussian action noise of std 0.5, actions clipped to [-1, 1]; whenever the goal is reached a new
one is drawn, so an episode wanders the whole maze; 1001 steps per episode; 1000 training
episodes plus a tenth as many validation ones (``<name>-val.npz``). Nothing is downloaded: the
files are written here, deterministic from the seed, and read back with ogbench's own loader.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
from typing import Any

import numpy as np
from poe_steer_lab.ogbench.maze import make_env, MazeGrid
import tqdm

OGBENCH_NOISE = 0.5
"""Documented std of the Gaussian action noise of the PointMaze datasets."""
OGBENCH_EPISODE_STEPS = 1001
"""Documented steps per episode (``max_episode_steps``)."""
OGBENCH_EPISODES = 1000
"""Documented training episodes per dataset (plus a tenth for validation)."""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """One regenerated dataset: maze, size, noise and seed (the documented values by default)."""

    maze: str = 'medium'
    episodes: int = OGBENCH_EPISODES
    episode_steps: int = OGBENCH_EPISODE_STEPS
    noise: float = OGBENCH_NOISE
    seed: int = 0

    @property
    def name(self) -> str:
        """Return OGBench's dataset name; the loader derives environment ids from it."""
        return f'pointmaze-{self.maze}-navigate-v0'

    def digest(self) -> str:
        """Return a short hash of the spec: the cache folder, so a changed spec regenerates."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def path(self, cache: pathlib.Path) -> pathlib.Path:
        """Return where the training file lies (its ``-val.npz`` sits next to it)."""
        return cache / self.digest() / f'{self.name}.npz'


def _episode(env: Any, grid: MazeGrid, rng: np.random.Generator, spec: DatasetSpec,
             seed: int) -> dict[str, np.ndarray]:
    """Play one noisy-oracle episode; return its arrays in OGBench's layout."""
    np.random.seed(seed)  # the env jitters start and goal with the global generator
    env.action_space.seed(seed)
    init = grid.free_cells[rng.integers(len(grid.free_cells))]
    goal = grid.vertex_cells[rng.integers(len(grid.vertex_cells))]
    ob, _ = env.reset(seed=seed, options={'task_info': {'init_ij': init, 'goal_ij': goal}})
    keys = ('observations', 'actions', 'qpos', 'qvel', 'goals')
    rows: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    for _ in range(spec.episode_steps):
        xy = env.get_xy()
        action = grid.direction(xy, env.cur_goal_xy) + rng.normal(0.0, spec.noise, 2)
        action = np.clip(action, -1.0, 1.0)
        next_ob, _, _, _, info = env.step(action)
        rows['observations'].append(ob)
        rows['actions'].append(action)
        rows['qpos'].append(info['prev_qpos'])
        rows['qvel'].append(info['prev_qvel'])
        rows['goals'].append(np.array(env.cur_goal_xy))
        if info['success']:
            env.set_goal(grid.vertex_cells[rng.integers(len(grid.vertex_cells))])
        ob = next_ob
    arrays = {key: np.asarray(value, dtype=np.float32) for key, value in rows.items()}
    terminals = np.zeros(spec.episode_steps, dtype=bool)
    terminals[-1] = True
    return {**arrays, 'terminals': terminals}


def generate(spec: DatasetSpec, cache: pathlib.Path, progress: bool = False) -> pathlib.Path:
    """
    Write the dataset (training and validation files) unless the cache has it; return its path.

    :param spec: maze, episodes, steps, noise and seed.
    :param cache: folder of the datasets (one sub-folder per spec).
    :param progress: show a progress bar.
    """
    path = spec.path(cache)
    validation = path.with_name(path.name.replace('.npz', '-val.npz'))
    if path.is_file() and validation.is_file():
        return path
    env = make_env(spec.maze, terminate_at_goal=False)
    grid = MazeGrid(env)
    rng = np.random.default_rng(spec.seed)
    total = spec.episodes + max(spec.episodes // 10, 1)
    seeds = rng.integers(0, 2**31 - 1, size=total)
    episodes = [_episode(env, grid, rng, spec, int(seed)) for seed in tqdm.tqdm(
        seeds, disable=not progress, desc=f'dataset {spec.maze}')]
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, part in ((path, episodes[:spec.episodes]),
                         (validation, episodes[spec.episodes:])):
        arrays = {key: np.concatenate([episode[key] for episode in part])
                  for key in part[0]}
        temporary = target.with_name(target.stem + '.tmp.npz')
        np.savez_compressed(temporary, **arrays)
        temporary.replace(target)
    return path


def load(spec: DatasetSpec, path: pathlib.Path, task: int = 1) -> tuple[Any, dict, dict]:
    """
    Load a regenerated dataset with ogbench's own loader, rewards of ``task``'s single-task env.

    :returns: ``(env, train, validation)`` as ``ogbench.make_env_and_datasets`` gives them.
    """
    import ogbench

    name = f'pointmaze-{spec.maze}-navigate-singletask-task{task}-v0'
    return ogbench.make_env_and_datasets(name, dataset_path=str(path), add_info=True)


@dataclasses.dataclass(frozen=True)
class DatasetCheck:
    """A dataset's statistics next to what OGBench documents, and whether they match."""

    transitions: int
    """Transitions ogbench's loader yields (it drops each episode's last step)."""
    episodes: int
    episode_steps: tuple[int, int]
    """Shortest and longest episode in the file."""
    residual_std: float
    """Std of (action - noise-free oracle action), on every tenth step."""
    expected_residual_std: float
    """The same for Gaussian noise of the documented std, clipped alike (Monte Carlo)."""
    coverage: float
    """Share of the maze's free cells the data visits."""
    goals_per_episode: float
    """Goals the oracle reached per episode (navigate episodes chain several)."""
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for the report."""
        return dataclasses.asdict(self)


def check(spec: DatasetSpec, path: pathlib.Path, transitions: int, grid: MazeGrid,
          tolerance: float = 0.05) -> DatasetCheck:
    """
    Compare a regenerated training file with OGBench's documentation.

    Every episode must last ``episode_steps``; the std of the action residual (action minus the
    oracle's clean action toward the goal pursued, kept in the file's extra ``goals`` array,
    which ogbench's loader ignores) must match within ``tolerance`` (relative) the std that
    clipped Gaussian noise of ``spec.noise`` leaves on the same clean actions; the data must
    visit every free cell.

    :param transitions: what ogbench's loader read from the file.
    """
    with np.load(path) as data:
        terminals, actions = data['terminals'], data['actions'].astype(np.float64)
        qpos, goals = data['qpos'][:, :2].astype(np.float64), data['goals'].astype(np.float64)
    lengths = np.diff(np.concatenate([[-1], np.flatnonzero(terminals)]))
    picked = np.arange(0, len(actions), 10)
    clean = np.array([grid.direction(qpos[i], goals[i]) for i in picked])
    residual = actions[picked] - clean
    rng = np.random.default_rng(spec.seed)
    simulated = np.clip(clean + rng.normal(0.0, spec.noise, clean.shape), -1.0, 1.0) - clean
    visited = {grid.cell_of(xy) for xy in qpos[::5]}
    coverage = len(visited & set(grid.free_cells)) / len(grid.free_cells)
    changes = np.any(goals[1:] != goals[:-1], axis=1) & ~terminals[:-1].astype(bool)
    measured, expected = float(residual.std()), float(simulated.std())
    steps = (int(lengths.min()), int(lengths.max()))
    passed = (steps == (spec.episode_steps, spec.episode_steps)
              and abs(measured - expected) <= tolerance * expected and coverage == 1.0)
    return DatasetCheck(transitions, int(len(lengths)), steps, measured, expected, coverage,
                        float(changes.sum() / len(lengths)), passed)
