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
Simulation throughput: environment steps per second and the real-time factor reached in-process.

The training pipeline and the evaluation harness step the environments in-process, so their
cost bounds how many episodes fit in a run. Run: ``python -m poe_steer_lab.bench.sim_bench``.
"""

from __future__ import annotations

import pathlib
import statistics
import time
from typing import Callable

import numpy as np
from poe_steer_lab.bench.machine import machine_footer
from poe_steer_sim.arm import PlanarArmEnv
from poe_steer_sim.diff_drive import DiffDriveEnv, DiffDriveSim
from poe_steer_sim.goal_env import GoalEnv
from poe_steer_sim.world import default_world


def _rate(step: Callable[[], None], duration_s: float, repeats: int) -> float:
    """Return the median over ``repeats`` of calls per second of ``step`` for ``duration_s``."""
    rates = []
    for _ in range(repeats):
        calls = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < duration_s:
            for _ in range(50):
                step()
            calls += 50
        rates.append(calls / elapsed)
    return statistics.median(rates)


def _episode_stepper(env: GoalEnv) -> Callable[[], None]:
    """Return a callable doing one env step with a random command, resetting at episode ends."""
    rng = np.random.default_rng(0)
    env.reset(seed=0)

    def step() -> None:
        _, _, terminated, truncated, _ = env.step(rng.uniform(env.command_low, env.command_high))
        if terminated or truncated:
            env.reset()

    return step


def run(quick: bool = False, out_dir: pathlib.Path | None = None) -> str:
    """Measure and return a markdown section; ``out_dir`` is unused (no figures)."""
    duration_s, repeats = (0.3, 1) if quick else (2.0, 3)
    world = default_world()
    diff_drive = DiffDriveEnv(world)
    arm = PlanarArmEnv()
    sim = DiffDriveSim(world)
    sim.set_command([0.3, 0.2])
    rows = [
        ('DiffDriveEnv.step (random commands, resets included)', diff_drive.control_dt_s,
         _rate(_episode_stepper(diff_drive), duration_s, repeats)),
        ('PlanarArmEnv.step (random commands, resets included)', arm.control_dt_s,
         _rate(_episode_stepper(arm), duration_s, repeats)),
        ('DiffDriveSim.advance(1) (one physics step, contact check)', sim.physics_dt_s,
         _rate(lambda: sim.advance(1), duration_s, repeats)),
    ]
    lines = [
        '## Simulation throughput',
        '',
        'Calls per second of the in-process MuJoCo environments (median of '
        f'{repeats} run(s) of {duration_s} s, one thread) and the simulated time they cover: '
        'the real-time factor a training or evaluation loop gets before any policy cost.',
        '',
        '| what | sim time per call (s) | calls/s | real-time factor | sim s per wall min |',
        '|---|---|---|---|---|',
    ]
    for name, sim_dt_s, rate in rows:
        lines.append(f'| {name} | {sim_dt_s:g} | {rate:,.0f} | {rate * sim_dt_s:,.0f} | '
                     f'{rate * sim_dt_s * 60:,.0f} |')
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    print(run() + '\n' + machine_footer())
