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
Closed-loop comparison that chose the default actor: the blind one or the one that sees.

In-process closed loop (``offline.rollout``), the node's own settings from ``config/steer.yaml``
(rule, weight, pose prior, envelope, rate limits), one episode per goal from rest at the world's
start pose, 30 s, success within 0.3 m, an episode ends at its first collision. Goals: a 1 m
grid over the arena (x -1..5, y -2..2) plus (4.0, 1.5), each at least 0.35 m from every
obstacle and wall. Worlds: the default one and ``MOVED_LAYOUTS`` random layouts in the same
arena with the same start (seeds the training never drew). Configurations: each actor frozen
and under PoE, the seeing actor with and without support-aware std widening, and the prior alone.

Run: ``python -m poe_steer_lab.offline.actor_choice [--quick]``; prints a markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
from typing import Any, Sequence

import numpy as np
from poe_steer_lab.offline.rollout import ActorPolicy, EpisodeRecord, run_episodes, \
    SteererPolicy
from poe_steer_lab.ros.processes import share_file, shipped_steer_parameters
from poe_steer_ros.core.actor import FrozenActor, load_actor
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.scan import ScanBinning
from poe_steer_ros.core.steerer import Rule
from poe_steer_ros.core.support import SupportAwareActor
from poe_steer_ros.ros.parameters import steering_config
from poe_steer_sim.diff_drive import DiffDriveEnv
from poe_steer_sim.world import default_world, LayoutConfig, random_layout, World

GRID_X = range(-1, 6)
GRID_Y = range(-2, 3)
EXTRA_GOALS = ((4.0, 1.5),)
GOAL_CLEARANCE_M = 0.35
TOLERANCE_M = 0.3
MOVED_LAYOUTS = (9001, 9002)
"""Seeds of the moved-obstacle worlds (same arena and start as the default world)."""
START_CLEARANCE_M = 0.6


def grid_goals(world: World) -> list[np.ndarray]:
    """Return the grid goals (and the extra ones) that are clear of obstacles and walls."""
    points = [(float(x), float(y)) for x in GRID_X for y in GRID_Y] + list(EXTRA_GOALS)
    return [np.array(p) for p in points if world.clearance(*p) >= GOAL_CLEARANCE_M]


def moved_world(seed: int, base: World) -> World:
    """Return a random layout in the base world's arena whose start stays clear."""
    rng = np.random.default_rng(seed)
    config = LayoutConfig(arena_scale=(1.0, 1.0))
    while True:
        world = random_layout(rng, base, config)
        if world.clearance(world.start_pose.x_m, world.start_pose.y_m) >= START_CLEARANCE_M:
            return world


@dataclasses.dataclass(frozen=True)
class Configuration:
    """One row of the comparison: an actor, a rule and whether the std is widened off support."""

    label: str
    actor: str
    rule: Rule
    support_gain: float = 0.0


def _policy(configuration: Configuration, actor: FrozenActor,
            values: dict[str, Any]) -> Any:
    """Return the rollout policy of a configuration with the node's settings."""
    steered: Any = actor
    if configuration.support_gain > 0.0 and actor.support is not None:
        steered = SupportAwareActor(actor, actor.support, configuration.support_gain)
    if configuration.rule is Rule.FROZEN:
        return ActorPolicy(steered, actor.observation_layout.build)
    envelope = SafetyEnvelope(np.asarray(values['limits.command_low'], dtype=float),
                              np.asarray(values['limits.command_high'], dtype=float),
                              np.asarray(values['limits.max_rate_per_s'], dtype=float),
                              alpha_max=float(values['limits.alpha_max']))
    config = steering_config({**values, 'steering.rule': configuration.rule.value})
    return SteererPolicy(steered, actor.observation_layout.build, envelope, config)


def _env(world: World, actor: FrozenActor) -> DiffDriveEnv:
    spec = actor.manifest.observation
    bins = actor.observation_layout.scan_bins
    scan = ScanBinning(bins, float(spec.scan_range_m or 0.0)) if bins else None
    return DiffDriveEnv(world, max_episode_s=30.0, goal_tolerance_m=TOLERANCE_M, scan=scan)


def compare(actors: dict[str, pathlib.Path], configurations: Sequence[Configuration],
            worlds: dict[str, World]) -> dict[tuple[str, str], list[EpisodeRecord]]:
    """Run every configuration on every world's grid; return (world, label) -> records."""
    values = shipped_steer_parameters()
    loaded = {name: load_actor(path, device='cpu', warmup_passes=0)
              for name, path in actors.items()}
    results = {}
    for world_name, world in worlds.items():
        goals = grid_goals(world)
        for configuration in configurations:
            actor = loaded[configuration.actor]
            policy = _policy(configuration, actor, values)
            results[(world_name, configuration.label)] = run_episodes(
                policy, _env(world, actor), goals, list(range(len(goals))))
    return results


def table(results: dict[tuple[str, str], list[EpisodeRecord]]) -> str:
    """Return success and collisions per configuration (rows) and world (columns)."""
    worlds = list(dict.fromkeys(world for world, _ in results))
    labels = list(dict.fromkeys(label for _, label in results))
    lines = ['| configuration | ' + ' | '.join(worlds) + ' |',
             '|---|' + '---|' * len(worlds)]
    for label in labels:
        cells = []
        for world in worlds:
            records = results[(world, label)]
            reached = sum(record.success for record in records)
            collided = sum(record.collisions > 0 for record in records)
            cells.append(f'{reached}/{len(records)} ({collided} coll.)')
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


CONFIGURATIONS = (
    Configuration('blind, frozen', 'blind', Rule.FROZEN),
    Configuration('blind, PoE, no support', 'blind', Rule.POE),
    Configuration('blind, PoE + support (gain 1)', 'blind', Rule.POE, 1.0),
    Configuration('seeing, frozen', 'seeing', Rule.FROZEN),
    Configuration('seeing, PoE, no support', 'seeing', Rule.POE),
    Configuration('seeing, PoE + support (gain 1, steer.yaml)', 'seeing', Rule.POE, 1.0),
    Configuration('prior only', 'seeing', Rule.PRIOR_ONLY),
)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the comparison of the shipped actors on the default and moved-obstacle worlds."""
    parser = argparse.ArgumentParser(description=(__doc__ or '').split('\n\n')[0])
    parser.add_argument('--models', type=pathlib.Path,
                        default=share_file('models', 'default_actor.pt.yaml').parent)
    parser.add_argument('--quick', action='store_true', help='the default world only')
    args = parser.parse_args(argv)
    base = default_world()
    worlds = {'default': base}
    if not args.quick:
        worlds.update({f'moved {seed}': moved_world(seed, base) for seed in MOVED_LAYOUTS})
    actors = {'blind': args.models / 'default_actor.pt.yaml',
              'seeing': args.models / 'seeing_actor.pt.yaml'}
    print(table(compare(actors, CONFIGURATIONS, worlds)))


if __name__ == '__main__':
    main()
