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
``poe-steer-lab reach``: the configurations, the worlds and the goal sets, and the report.

Configurations are built per actor (actors are arguments: name -> manifest), so a new actor (the
seeing one) or a new setting (support-aware confidence, through ``--variant``) is one more
argument, not new code.
"""

from __future__ import annotations

import dataclasses
import pathlib
import time
from typing import Any, Mapping, Sequence

from poe_steer_lab.reach.benchmark import (Configuration, EpisodeCache, grid_goals,
                                           node_parameters, run_world, WorldResult)
from poe_steer_lab.reach.report import (paired_line, plot_trajectories, plot_world,
                                        targets_table, world_table)
from poe_steer_sim.world import load_world, package_config_path, World

DEFAULT_WORLDS = ('sim_world.yaml', 'moved_world_a.yaml', 'moved_world_b.yaml',
                  'moved_world_c.yaml')
SHIPPED = 'shipped'
FROZEN = 'frozen'
QUICK_GOALS = ((4.0, 1.5), (3.0, 0.5), (-1.0, 0.0))
QUICK_NOTE = ' (quick mode: the numbers mean nothing)'
METHOD = (
    'Every goal of the set that the stand-in planner (`poe_steer_sim.navigation`: Dijkstra on a '
    '0.1 m grid with costs rising near obstacles) can reach from the start pose is tried once '
    'from rest at the start pose, 30 s at most; success is coming within 0.3 m, and the first '
    "collision ends an episode. Episodes run in-process through the node's own Steerer, built "
    "from the node's parameters (code defaults overlaid with the parameter file), its envelope "
    '(bounds, rate limits, alpha_max) and its actor file (ONNX on the CPU); the path prior gets '
    'a fresh plan from the current pose every 0.5 s, as the `path_planner` node publishes it. '
    '*shipped* is the parameter file as is; every other row overrides the parameters it names '
    '(`poe_steer_lab/reach/run.py`). Driven / planned compares the driven length with the '
    "planner's path from the start (grid paths are a little longer than straight lines, and "
    'success ends 0.3 m early, so ratios below 1 occur). The training region is the goal '
    'region the actor was trained on.')

_RULES: dict[str, dict[str, Any]] = {
    FROZEN: {'steering.rule': 'frozen'},
    'prior only, pose': {'steering.rule': 'prior_only', 'prior.type': 'pose'},
    'prior only, path': {'steering.rule': 'prior_only', 'prior.type': 'path'},
    'PoE, pose': {'steering.rule': 'poe', 'steering.alpha': 0.5, 'prior.type': 'pose',
                  'steering.kl_budget': 0.0},
    'PoE, pose, narrow turn std': {'steering.rule': 'poe', 'steering.alpha': 0.5,
                                   'prior.type': 'pose', 'steering.kl_budget': 0.0,
                                   'prior.std_angular': 0.1, 'prior.std_angular_per_rad': 0.3},
    'PoE, path': {'steering.rule': 'poe', 'steering.alpha': 0.5, 'prior.type': 'path',
                  'steering.kl_budget': 0.0, 'steering.stall_alpha': 0.0},
    'PoE, path, stall boost': {'steering.rule': 'poe', 'steering.alpha': 0.5,
                               'prior.type': 'path', 'steering.kl_budget': 0.0,
                               'steering.stall_alpha': 0.9},
    'selector, path': {'steering.rule': 'poe', 'steering.alpha': 0.9, 'prior.type': 'path',
                       'steering.kl_budget': 0.5},
    SHIPPED: {},
    'shipped, support off': {'support.std_gain': 0.0},
}
"""
Parameter overrides on top of config/steer.yaml; the shipped row overrides nothing. Without a
support model (the blind actor) ``support.std_gain`` changes nothing: that row equals shipped.
"""
ACTOR_FREE = ('prior only, pose', 'prior only, path')
"""Rows that ignore the actor."""
FIRST_ACTOR_ONLY = (*ACTOR_FREE, 'PoE, pose, narrow turn std', 'PoE, path, stall boost')
"""Rows played for the first actor only: actor-free, or settling a default of the runtime."""


def configurations(actors: Sequence[str], variants: Mapping[str, Mapping[str, Any]] = {},
                   quick: bool = False, rows: Sequence[str] | None = None
                   ) -> list[Configuration]:
    """
    Return every configuration for every actor: the rules above, then each variant.

    :param variants: label -> parameter overrides on top of the shipped settings (e.g. the
        support-aware confidence switched on or off).
    :param quick: frozen and shipped only.
    :param rows: the labels of the rules above to keep (None: all; variants are always kept).
    :raises ValueError: for an unknown label in ``rows``.
    """
    unknown = sorted(set(rows or ()) - set(_RULES))
    if unknown:
        raise ValueError(f'unknown configurations {unknown}; known: {list(_RULES)}')
    keep = (FROZEN, SHIPPED) if quick else _RULES if rows is None else rows
    rules = {name: _RULES[name] for name in _RULES if name in keep}
    rows = []
    for index, actor in enumerate(actors):
        prefix = f'{actor}: ' if len(actors) > 1 else ''
        rows += [Configuration(prefix + label, actor, parameters)
                 for label, parameters in {**rules, **variants}.items()
                 if index == 0 or label not in FIRST_ACTOR_ONLY]
    return rows


def default_goals(world: World, quick: bool) -> list[tuple[float, float]]:
    """Return the whole-arena grid plus a finer grid of the training region (and (4, 1.5))."""
    if quick:
        return list(QUICK_GOALS)
    region = world.goal_region
    inside = [(round(region.x_min_m + 0.5 * i, 3), round(region.y_min_m + 0.5 * j, 3))
              for i in range(int((region.x_max_m - region.x_min_m) / 0.5 + 1e-9) + 1)
              for j in range(int((region.y_max_m - region.y_min_m) / 0.5 + 1e-9) + 1)]
    arena = grid_goals(world)
    return arena + [goal for goal in inside if goal not in arena]


@dataclasses.dataclass(frozen=True)
class ReachRun:
    """What the command was asked to do."""

    worlds: Sequence[pathlib.Path]
    goals: Sequence[tuple[float, float]] | None
    """None: ``default_goals`` of each world."""
    manifests: Mapping[str, pathlib.Path]
    variants: Mapping[str, Mapping[str, Any]]
    steer_yaml: pathlib.Path
    out_dir: pathlib.Path
    cache_dir: pathlib.Path
    quick: bool = False
    rows: Sequence[str] | None = None
    """Labels of the built-in configurations to play (None: all)."""
    workers: int = 1
    command: str = 'make reach'


def run_reach(run: ReachRun, progress: bool = True) -> tuple[pathlib.Path, list[WorldResult]]:
    """Play every world and write ``reach.md`` with its pictures; return it and the results."""
    started = time.perf_counter()
    base = node_parameters(run.steer_yaml)
    rows = configurations(list(run.manifests), run.variants, run.quick, run.rows)
    cache = EpisodeCache(run.cache_dir)
    run.out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for world_file in run.worlds:
        world = load_world(world_file)
        goals = list(run.goals) if run.goals is not None else default_goals(world, run.quick)
        results.append(run_world(world_file.stem, world_file, goals, rows, run.manifests, base,
                                 cache, run.workers, progress))
    report = run.out_dir / 'reach.md'
    report.write_text(_markdown(run, results, rows, time.perf_counter() - started),
                      encoding='utf-8')
    return report, results


def _markdown(run: ReachRun, results: Sequence[WorldResult], rows: Sequence[Configuration],
              wall_s: float) -> str:
    shipped = [row.label for row in rows if row.label.endswith(SHIPPED)]
    frozen = [row.label for row in rows if row.label.endswith(FROZEN)]
    lines = ['# Goal-grid benchmark (generated)', '',
             f'Command: `{run.command}`{QUICK_NOTE if run.quick else ""}; '
             f'{sum(len(r.goals) for r in results) * len(rows)} episodes, wall time '
             f'{wall_s:.0f} s (cached episodes are not replayed).', '',
             'Actors: ' + ', '.join(f'{name} `{_shown(path)}`'
                                    for name, path in run.manifests.items())
             + '.', '', METHOD, '']
    only = [row.label for row in rows if row.label.endswith(ACTOR_FREE)]
    for prefix in dict.fromkeys(label[:-len(SHIPPED)] for label in shipped):
        actor = f' ({prefix[:-2]})' if prefix else ''
        lines += [f'## Targets{actor}', '',
                  targets_table(results, prefix + SHIPPED, prefix + FROZEN, only,
                                pathlib.Path(DEFAULT_WORLDS[0]).stem), '']
    for result in results:
        lines += [f'## {result.name}', '',
                  f'{len(result.goals)} reachable goals '
                  f'({len(result.unreachable)} of the set unreachable for the planner).', '',
                  world_table(result), '']
        for treated, baseline in zip(shipped, frozen):
            lines += [f'- {paired_line(result, treated, baseline, region_only=True)}',
                      f'- {paired_line(result, treated, baseline, region_only=False)}']
        picture = plot_world(result, run.out_dir / f'reach_{result.name}.png')
        paths = plot_trajectories(result, [*frozen[:1], *shipped[:1]],
                                  run.out_dir / f'reach_{result.name}_paths.png')
        lines += ['', f'![outcomes]({picture.name})', '', f'![paths]({paths.name})', '']
    return '\n'.join(lines)


def _shown(path: pathlib.Path) -> str:
    """Return a file's path relative to the working folder when it lies below it."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(pathlib.Path.cwd()))
    except ValueError:
        return str(resolved)


def world_path(name: str) -> pathlib.Path:
    """Return a world file: a path as given, or a file of poe_steer_sim's config folder."""
    path = pathlib.Path(name)
    return path if path.is_file() else package_config_path(name)
