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
``poe-steer-lab ogbench``: datasets, actors, the protocol and ``docs/ogbench.md`` per maze.

For each maze: regenerate (or reuse) the navigate dataset and check it against OGBench's
documentation, train (or reuse) the frozen actors on task 1, play the evaluation protocol
(``eval.protocol``) in ogbench's own environment through the core ``Steerer``, analyse it
(``eval.analysis``) and write its sections (``eval.report``) into one report.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import time
from typing import Mapping, Sequence

import numpy as np
from poe_steer_lab.eval.analysis import (grid_comparisons, PRECISION_MARGIN,
                                         precision_seeds, Results)
from poe_steer_lab.eval.priors import PriorSettings
from poe_steer_lab.eval.protocol import Cell, EvalConfig, run_protocol
from poe_steer_lab.eval.report import (machine_facts, protocol_facts, report_sections,
                                       ReportText)
from poe_steer_lab.eval.stats import Verdict
from poe_steer_lab.ogbench.actors import default_actors, train_actor, TRAINING_TASK
from poe_steer_lab.ogbench.dataset import (check, DatasetCheck, DatasetSpec, generate, load,
                                           OGBENCH_EPISODE_STEPS, OGBENCH_EPISODES,
                                           OGBENCH_NOISE)
from poe_steer_lab.ogbench.maze import MazeGrid
from poe_steer_lab.ogbench.scenario import OGBENCH_EVAL_STEPS, PointMazeScenario
import tqdm

REPORT_FILE = 'ogbench.md'
DEFAULT_COMMAND = 'make ogbench'
NOISE_TASK = 2
"""The task of the prior-noise sweep: the first one the actor was not trained for."""


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """What one ``ogbench`` run covers; the defaults are ``make ogbench``."""

    mazes: tuple[str, ...] = ('medium', 'large')
    goals: tuple[int, ...] = (1, 2, 3, 4, 5)
    dataset_episodes: int = OGBENCH_EPISODES
    seeds: tuple[int, ...] = (0,)
    episodes_per_seed: int = 16
    max_episodes: int = 512
    """Episodes a grid cell may play in all while its HELP/HURT effects are unresolved."""
    max_steps: int = OGBENCH_EVAL_STEPS
    workers: int = 2
    quick: bool = False

    def __post_init__(self) -> None:
        """Refuse an episode cap below the episodes every cell plays."""
        base = self.episodes_per_seed * len(self.seeds)
        if self.max_episodes < base:
            raise ValueError(f'max_episodes ({self.max_episodes}) must be at least the '
                             f'episodes every cell plays ({base})')


def protocol_config(settings: RunSettings, goal_order: Sequence[int]) -> EvalConfig:
    """Return the protocol's settings; ``goal_order`` orders the shift sweep."""
    goals = tuple(float(goal) for goal in settings.goals)
    common = {'grid_shifts_m': goals,
              'shifts_m': tuple(float(goal) for goal in goal_order),
              'training_shift': float(TRAINING_TASK),
              'noise_shift': float(NOISE_TASK if NOISE_TASK in settings.goals
                                   else settings.goals[-1]),
              'shift_unit': '(OGBench task ids, ordered by distance from task 1)',
              'workers': settings.workers}
    if settings.quick:
        return EvalConfig(seeds=(0,), episodes_per_seed=2, alphas=(0.5,), kl_budgets=(0.2,),
                          sweep_alpha=0.5, sweep_kl_budget=0.2, grid_noise=1.0,
                          noise_scales=(1.0,), priors=PriorSettings(), resamples=100,
                          **{**common, 'workers': 1})
    return EvalConfig(seeds=settings.seeds, episodes_per_seed=settings.episodes_per_seed,
                      alphas=(0.25, 0.5, 0.75), kl_alphas=(0.5,), kl_budgets=(1.0,),
                      sweep_alpha=0.5, sweep_kl_budget=1.0, grid_noise=1.0,
                      noise_scales=(0.5, 1.0, 2.0), priors=PriorSettings(), **common)


def report_text(maze: str, goal_order: Sequence[int], max_steps: int) -> ReportText:
    """Return the report's words for one maze."""
    order = ', '.join(f'{goal}' for goal in goal_order)
    return ReportText(
        title=f'PointMaze {maze}',
        intro='',
        episode=("Return of an episode = OGBench's single-task return of the evaluated task: "
                 'reward success - 1 per step, so minus the steps taken before reaching the '
                 f'goal (within 1 unit); an episode ends at the goal or after {max_steps} '
                 f'steps (-{max_steps} without success). Success = goal reached.'),
        oracle=("OGBench's navigation oracle without its noise: the unit step toward the "
                'centre of the next cell on a BFS shortest path to the deployment goal'),
        units='actions lie in [-1, 1]^2, so noise and stds are in action units',
        shift='goal', shift_cell='goal {shift:g}',
        shift_axis=f'OGBench task, ordered by distance from task {TRAINING_TASK}',
        shift_section=(f"Goals are OGBench's evaluation tasks of the maze (each with its own "
                       f"start and goal cells); task {TRAINING_TASK} is the actors' training "
                       'task. The sweep orders them by the BFS distance between their goal '
                       f"cell and task {TRAINING_TASK}'s: {order}. Tasks differ in start "
                       'cell too, so this is an ordering, not a distance scale.'),
        plot_prefix=f'ogbench_{maze}_')


@dataclasses.dataclass(frozen=True)
class MazeRun:
    """One maze's results and what the report says about them."""

    maze: str
    spec: DatasetSpec
    check: DatasetCheck
    sections: list[str]
    seconds: dict[str, float]


def run_maze(maze: str, settings: RunSettings, out_dir: pathlib.Path, cache: pathlib.Path,
             progress: bool) -> MazeRun:
    """Regenerate, train, play and analyse one maze; write its plots into ``out_dir``."""
    seconds = {}
    started = time.perf_counter()
    spec = (DatasetSpec(maze, episodes=4) if settings.quick
            else DatasetSpec(maze, episodes=settings.dataset_episodes))
    path = generate(spec, cache / 'datasets', progress)
    env, train, _ = load(spec, path, TRAINING_TASK)
    grid = MazeGrid(env.unwrapped)
    dataset_check = check(spec, path, len(train['observations']), grid)
    seconds['dataset'] = time.perf_counter() - started
    plans = default_actors(settings.quick)
    manifests = {plan.name: train_actor(plan, spec, path, cache / 'actors' / maze / spec.digest()
                                        / plan.name, progress) for plan in plans}
    seconds['actors'] = time.perf_counter() - started - seconds['dataset']
    goal_cell = grid.task_cells[TRAINING_TASK - 1][1]
    goal_order = sorted(settings.goals, key=lambda goal: (
        grid.distances(goal_cell)[grid.task_cells[goal - 1][1]], goal))
    config = protocol_config(settings, goal_order)
    scenario = PointMazeScenario(maze, 50 if settings.quick else settings.max_steps)
    max_episodes = 4 if settings.quick else settings.max_episodes
    results, task_seconds = play_until_precise(config, manifests, scenario,
                                               cache / 'tasks' / maze, max_episodes, progress)
    seconds['protocol'] = float(np.sum(task_seconds)) / config.workers
    descriptions = {plan.name: f'{plan.description} ({os.path.relpath(manifests[plan.name])})'
                    for plan in plans}
    text = report_text(maze, goal_order, scenario.max_steps)
    sections = [protocol_facts(results, text), _intervals(results, max_episodes),
                *report_sections(results, out_dir, text, descriptions)]
    return MazeRun(maze, spec, dataset_check, sections, seconds)


def play_until_precise(config: EvalConfig, manifests: Mapping[str, pathlib.Path],
                       scenario: PointMazeScenario, cache: pathlib.Path, max_episodes: int,
                       progress: bool) -> tuple[Results, list[float]]:
    """
    Play the protocol, then more episodes in the grid cells whose effects are unresolved.

    Each round asks ``analysis.precision_seeds`` which cells need more episodes and plays only
    those (every finished task is cached), until every HELP/HURT interval in the grid is
    narrower than its effect or its cell has played ``max_episodes``.

    :returns: the results and every task's play time (s), each task once.
    """
    extra: dict[Cell, int] = {}
    while True:
        task_seconds: list[float] = []
        runs = run_protocol(config, manifests, progress, scenario, cache, task_seconds, extra)
        results = Results(config, tuple(manifests), runs)
        wanted = {cell: seeds for cell, seeds in precision_seeds(results, max_episodes).items()
                  if seeds > extra.get(cell, 0)}
        if not wanted:
            return results, task_seconds
        if progress:
            tqdm.tqdm.write(f'{scenario.maze}: {len(wanted)} grid cell(s) have HELP/HURT '
                            'intervals wider than their effects; playing more episodes there')
        extra.update(wanted)


def _intervals(results: Results, max_episodes: int) -> str:
    """Return how many episodes the cells played and which effects' sizes stay unresolved."""
    config = results.config
    comparisons = [(cell, label, item) for cell in results.grid_cells()
                   for label, item in grid_comparisons(results, cell)]
    widths = [item.high - item.low for _, _, item in comparisons]
    decided = [(cell, label, item) for cell, label, item in comparisons
               if item.verdict is not Verdict.FROZEN]
    imprecise = [(cell, label, item) for cell, label, item in decided if item.unresolved]
    episodes = [results.episodes(cell) for cell in results.grid_cells()]
    spread = ', '.join(f'{count} cell(s) {value}'
                       for value, count in zip(*np.unique(episodes, return_counts=True)))
    listed = '; '.join(
        f'{cell.actor}, {cell.prior.label if cell.prior else "no prior"}, goal '
        f'{cell.shift_m:g}, {label}: {item.mean_difference:+.0f} '
        f'[{item.low:+.0f}, {item.high:+.0f}] over {item.episodes} episodes'
        for cell, label, item in imprecise)
    return (
        '## Episodes and interval widths\n\n'
        f'Every cell plays {config.episodes_per_cell} paired episodes ({len(config.seeds)} '
        f'seed(s) x {config.episodes_per_seed}). A grid cell with a HELP or HURT verdict (in the '
        'grid or the selector table) whose 95 % interval is not narrower than its effect then '
        f'plays more seeds: about (width / effect)² x {PRECISION_MARGIN:g} times its episodes '
        '(intervals narrow as 1/sqrt(episodes)), in rounds, up to '
        f'{max_episodes} episodes per cell. Episodes per grid cell: {spread}.\n\n'
        f'Over the {len(comparisons)} comparisons of the grid and selector tables, the 95 % '
        f'interval is {np.median(widths):.0f} steps wide at the median (largest '
        f'{max(widths):.0f}). {len(decided)} are HELP or HURT; **'
        f'{len(decided) - len(imprecise)} of them have an interval narrower than the effect**, '
        'so their size is resolved. '
        + (f'Unresolved even at the cap ({len(imprecise)}): the interval excludes 0, so the '
           'direction holds, but is not narrower than the effect; tables show these in '
           'parentheses (actor, prior, goal, comparison: effect [95 % interval], steps): '
           f'{listed}.' if imprecise else 'None is unresolved.'))


def _demote(section: str) -> str:
    """Return a section with every heading one level deeper (it sits under a maze heading)."""
    return '\n'.join('#' + line if line.startswith('#') else line
                     for line in section.splitlines())


def run_ogbench(out_dir: pathlib.Path, settings: RunSettings, *, cache: pathlib.Path,
                progress: bool = True, command: str = DEFAULT_COMMAND) -> pathlib.Path:
    """
    Run every maze of ``settings`` and write ``ogbench.md`` with its plots into ``out_dir``.

    :returns: the report's path.
    """
    started = time.perf_counter()
    runs = [run_maze(maze, settings, out_dir, cache, progress) for maze in settings.mazes]
    wall_time_s = time.perf_counter() - started
    mode = ' **Quick mode: tiny budgets, numbers not for quoting.**' if settings.quick else ''
    parts = [
        "# External benchmark: the paper's protocol on OGBench PointMaze\n\n" + INTRO + mode,
        f'* Reproduce: `{command}` (this run {wall_time_s / 60:.1f} min; datasets, actors and '
        f'played tasks are cached under `{cache}` and reused, so from an empty cache add the '
        f'{sum(run.seconds["protocol"] for run in runs) / 60:.0f} min of protocol play below; '
        f'written {datetime.date.today().isoformat()}).\n'
        f'* Machine: {machine_facts()}.\n' + _timing(runs),
        _datasets(runs), differences(settings)]
    for run in runs:
        parts.append(f'## PointMaze {run.maze}')
        parts.extend(_demote(section) for section in run.sections)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_FILE
    path.write_text('\n\n'.join(parts) + '\n', encoding='utf-8')
    return path


def _timing(runs: Sequence[MazeRun]) -> str:
    return '\n'.join(
        f'* {run.maze}: dataset and its check {run.seconds["dataset"]:.0f} s, actors '
        f'{run.seconds["actors"]:.0f} s (both 0 when cached), protocol play '
        f'{run.seconds["protocol"] / 60:.1f} min (sum of the per-task play times over the '
        'workers, measured when each task was played; reruns reuse finished tasks).'
        for run in runs)


def _datasets(runs: Sequence[MazeRun]) -> str:
    rows = ['| maze | episodes x steps | transitions (loader) | action residual std '
            '(measured / expected) | free cells visited | goals reached per episode | '
            'matches OGBench |', '|---|---:|---:|---:|---:|---:|---|']
    for run in runs:
        result = run.check
        rows.append(
            f'| {run.maze} | {result.episodes} x {result.episode_steps[1]} | '
            f'{result.transitions} | {result.residual_std:.3f} / '
            f'{result.expected_residual_std:.3f} | {result.coverage:.0%} | '
            f'{result.goals_per_episode:.1f} | {"yes" if result.passed else "**no**"} |')
    return (
        '## Datasets\n\n'
        "Regenerated here, following OGBench's documented collection of the PointMaze "
        '`navigate` datasets: each episode starts in a random free cell and chases a random '
        'non-corridor goal cell with the scripted oracle (unit step toward the next BFS subgoal '
        f'cell) plus Gaussian action noise of std {OGBENCH_NOISE:g}, clipped to [-1, 1]; a '
        'reached goal is replaced by a new one; '
        f'{OGBENCH_EPISODE_STEPS} steps per episode; a tenth as many validation episodes. '
        f'OGBench ships {OGBENCH_EPISODES} training episodes per dataset; the episode count '
        "is the `--dataset-episodes` option. Files are written in OGBench's format and read "
        'back by `ogbench.make_env_and_datasets(..., dataset_path=...)`, which also relabels '
        'them with the single-task rewards of task 1. Check: every episode has the documented '
        'length; the std of (action - noise-free oracle action) matches, within 5 %, the std '
        'that clipped noise of the documented std leaves on the same oracle actions (Monte '
        'Carlo); the data visits every free cell.\n\n' + '\n'.join(rows))


INTRO = (
    "docs/results.md reproduces the paper's protocol on our own diff-drive task, with actors "
    'and priors we designed. This report runs the same protocol, with the same code '
    '(`poe_steer_lab/eval`: rules, priors, paired bootstrap, findings), on an external '
    "benchmark: OGBench's PointMaze (PyPI `ogbench` 1.2.2, its own MuJoCo environments and "
    "tasks). Frozen actors are trained offline on OGBench's task 1 and steered toward tasks "
    '1-5, the retargeting question. Every rule runs in-process through the core `Steerer`, the '
    'same object the steering node runs, with the priors plugged in as its learned prior.')


def differences(settings: RunSettings) -> str:
    """Return the section on how this setting differs from the paper's, with this run's budgets."""
    return (
        "## What differs from the paper's D4RL setting\n\n"
        '* **Benchmark.** The paper uses D4RL (MuJoCo locomotion and AntMaze datasets). D4RL '
        "cannot be downloaded here, nor can OGBench's files; OGBench PointMaze is a different, "
        'simpler task (a point mass moved by displacement actions, 2-D state and action), with '
        'datasets regenerated by its documented scripted oracle rather than downloaded.\n'
        "* **Actors.** The paper steers actors trained by standard offline RL on D4RL's "
        "datasets. Ours are d3rlpy IQL on the transitions that OGBench's single-task reward of "
        'task 1 marks as reaching the goal in good time (filtered, advantage-weighted cloning), '
        'a recipe chosen because it trains in minutes on 2 shared CPU cores; the weak actor is '
        'the same recipe with a looser filter on a tenth of the data and a tenth of the '
        'gradient steps. The actors observe the position only, not the goal.\n'
        "* **Priors.** The oracle prior is OGBench's own data-collection oracle without noise, "
        'the very policy that generated the data; degraded and random priors follow '
        "`poe_steer_lab/eval/priors.py`. The paper's priors come from other sources; this "
        'oracle is unusually strong: it solves every task on its own (see prior-only). The '
        "steering node's planner-path prior (`prior.type: path`) commands a unicycle's linear "
        "and angular velocity and has no counterpart for a point mass's displacement actions; "
        'the oracle, which follows the BFS path cell by cell, takes its place here.\n'
        '* **Objective shift.** The paper shifts the objective of a locomotion task; here the '
        "shift is a change of goal (OGBench's tasks 2-5 against training task 1). Tasks also "
        'differ in start cell.\n'
        f'* **Budgets.** Datasets of {settings.dataset_episodes} episodes (OGBench ships '
        f'{OGBENCH_EPISODES}); episodes capped at {settings.max_steps} steps (OGBench evaluates '
        f'{OGBENCH_EVAL_STEPS}); alphas 0.25, 0.5 and 0.75 (each with an exact beta = alpha / '
        '(1 - alpha) in floating point), KL-reg at alpha 0.5 only, one selector budget; '
        f'{settings.episodes_per_seed * len(settings.seeds)} episodes per cell, up to '
        f'{settings.max_episodes} where an effect needs them. All to fit two CPU cores shared '
        'with other work.\n'
        "* **Returns.** OGBench's single-task return (minus the steps taken before the goal) "
        "replaces D4RL's normalised score.")
