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
The goal-grid benchmark's report: a markdown table per world and a picture of outcomes per goal.

Each world gets one row per configuration (success, collisions, training-region goals, time to
goal, driven length against the planner's, mean prior weight) and a PNG with one panel per
configuration in which every goal is coloured by its outcome.
"""

from __future__ import annotations

import math
import pathlib
from typing import Sequence

from matplotlib.figure import Figure
import numpy as np
from poe_steer_lab.eval.stats import paired_bootstrap, Verdict
from poe_steer_lab.plot import draw_world
from poe_steer_lab.reach.benchmark import Outcome, WorldResult

COLOURS = {'reached': 'tab:green', 'collision': 'tab:red', 'timeout': 'tab:orange'}


def outcome_kind(outcome: Outcome) -> str:
    """Return reached, collision or timeout."""
    return 'reached' if outcome.success else 'collision' if outcome.collision else 'timeout'


def _in_region(result: WorldResult) -> np.ndarray:
    region = result.world.goal_region
    return np.array([region.contains(*goal) for goal in result.goals])


def _median(values: Sequence[float | None]) -> str:
    kept = [value for value in values if value is not None]
    return f'{np.median(kept):.2f}' if kept else '–'


def world_table(result: WorldResult) -> str:
    """Return the markdown table of one world: one row per configuration."""
    inside = _in_region(result)
    lines = ['| configuration | reached | collisions | timeouts | training region | outside | '
             'median time to goal (s) | median driven / planned | mean prior weight |',
             '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for label, outcomes in result.outcomes.items():
        success = np.array([o.success for o in outcomes])
        collisions = sum(o.collision for o in outcomes)
        timeouts = sum(outcome_kind(o) == 'timeout' for o in outcomes)
        lines.append(
            f'| {label} | {success.sum()}/{success.size} ({100 * success.mean():.0f} %) | '
            f'{collisions} | {timeouts} | {success[inside].sum()}/{inside.sum()} | '
            f'{success[~inside].sum()}/{(~inside).sum()} | '
            f'{_median([o.time_to_goal_s for o in outcomes])} | '
            f'{_median([o.path_ratio for o in outcomes])} | '
            f'{np.mean([o.mean_prior_weight for o in outcomes]):.2f} |')
    return '\n'.join(lines)


def paired_line(result: WorldResult, treated: str, baseline: str, region_only: bool) -> str:
    """Return the paired success difference of two configurations with a 95 % interval."""
    mask = _in_region(result) if region_only else np.ones(len(result.goals), dtype=bool)
    first = np.array([o.success for o in result.outcomes[treated]], dtype=float)[mask]
    second = np.array([o.success for o in result.outcomes[baseline]], dtype=float)[mask]
    where = 'training-region goals' if region_only else 'goals'
    if first.size < 2:
        return f'{treated} vs {baseline} on {where}: fewer than 2 goals'
    comparison = paired_bootstrap(first, second)
    return (f'{treated} vs {baseline} on {first.size} {where}: success difference '
            f'{comparison.mean_difference:+.2f} (95 % interval {comparison.low:+.2f} to '
            f'{comparison.high:+.2f}, {comparison.verdict.value})')


def plot_world(result: WorldResult, path: pathlib.Path, columns: int = 3) -> pathlib.Path:
    """Draw one panel per configuration: each goal coloured by outcome, unreachable ones grey."""
    labels = list(result.outcomes)
    rows = math.ceil(len(labels) / columns)
    figure = Figure(figsize=(5.2 * columns, 3.9 * rows))
    for index, label in enumerate(labels):
        axes = figure.add_subplot(rows, columns, index + 1)
        draw_world(axes, result.world)
        for kind, colour in COLOURS.items():
            goals = [o.goal for o in result.outcomes[label] if outcome_kind(o) == kind]
            if goals:
                axes.scatter(*np.array(goals).T, s=28, color=colour, label=kind, zorder=3)
        if result.unreachable:
            axes.scatter(*np.array(result.unreachable).T, s=20, marker='x', color='0.6',
                         label='unreachable', zorder=3)
        success = np.mean([o.success for o in result.outcomes[label]])
        axes.set_title(f'{label}: {100 * success:.0f} %', fontsize=10)
        if index == 0:
            axes.legend(loc='lower left', fontsize=7)
    figure.suptitle(f'{result.name}: outcome per goal, from rest at the start pose')
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    return path


def plot_trajectories(result: WorldResult, labels: Sequence[str], path: pathlib.Path
                      ) -> pathlib.Path:
    """Draw the driven paths of the given configurations, one panel each."""
    figure = Figure(figsize=(5.2 * len(labels), 3.9))
    for index, label in enumerate(labels):
        axes = figure.add_subplot(1, len(labels), index + 1)
        draw_world(axes, result.world)
        for outcome in result.outcomes[label]:
            colour = COLOURS[outcome_kind(outcome)]
            axes.plot(*np.array(outcome.trajectory).T, color=colour, linewidth=0.7, alpha=0.7)
        axes.set_title(label, fontsize=10)
    figure.suptitle(f'{result.name}: driven paths (green reached, red collision, orange timeout)')
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    return path


def success_rate(result: WorldResult, label: str) -> float:
    """Return a configuration's fraction of reached goals."""
    return float(np.mean([o.success for o in result.outcomes[label]]))


def targets_table(results: Sequence[WorldResult], shipped: str, frozen: str,
                  prior_only: Sequence[str], default_world: str) -> str:
    """
    Return the issue's targets per world, each marked met or not.

    The world named ``default_world`` needs >= 95 % of reachable goals and no collision; every
    other world needs >= 85 % and at least the better of frozen and prior-only (the best prior);
    inside the training region the shipped settings must not be worse than frozen (the paired
    95 % interval of the success difference must not lie below zero).
    """
    lines = ['| world | shipped reached | collisions | target | better of frozen and prior '
             'only | training region vs frozen | met |', '| --- | --- | --- | --- | --- | --- '
             '| --- |']
    for result in results:
        rate = success_rate(result, shipped)
        collisions = sum(o.collision for o in result.outcomes[shipped])
        best = max(success_rate(result, label) for label in (frozen, *prior_only))
        inside = _in_region(result)
        first = np.array([o.success for o in result.outcomes[shipped]], dtype=float)[inside]
        second = np.array([o.success for o in result.outcomes[frozen]], dtype=float)[inside]
        region = paired_bootstrap(first, second) if first.size >= 2 else None
        region_ok = region is None or region.verdict is not Verdict.HURT
        if result.name == default_world:
            target, met = '>= 95 %, 0 collisions', rate >= 0.95 and collisions == 0
        else:
            target, met = '>= 85 %, >= better baseline', rate >= 0.85 and rate >= best
        region_text = '–' if region is None else (
            f'{region.mean_difference:+.2f} [{region.low:+.2f}, {region.high:+.2f}]')
        lines.append(f'| {result.name} | {100 * rate:.0f} % | {collisions} | {target} | '
                     f'{100 * best:.0f} % | {region_text} | '
                     f'{"yes" if met and region_ok else "NO"} |')
    return '\n'.join(lines)
