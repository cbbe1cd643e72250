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
Per-state cost of the steering core: compose + select + squash + clamp, numpy and torch.

The timed chain is the one ``Steerer.step`` runs after the actor and the prior have produced
their pre-squash Gaussians: composition with KL-budget selection -> finiteness guard ->
``squash`` -> ``ActionScale.to_command`` -> ``SafetyEnvelope.clamp`` (bounds and rate limits).
Three backends compose: ``fuse_state``, the compiled per-state path ``Steerer.step`` takes;
``fuse`` on numpy arrays (one state as a batch of one), the array reference that also serves
batches; and ``fuse`` on float64 torch tensors, which hand the squashed action back as numpy for
the envelope, as a node would.
Run: ``python -m poe_steer_lab.bench.core_bench``.
"""

from __future__ import annotations

import math
import pathlib
import subprocess
import sys
import time
from typing import Any, Callable

import numpy as np
from poe_steer_lab.bench.machine import machine_footer
from poe_steer_lab.ros.processes import exported
from poe_steer_ros.core.compose import GaussianPair, Rule
from poe_steer_ros.core.gaussian import (ActionScale, array_namespace, DiagGaussian, squash,
                                         squash_to_command, sum_last)
from poe_steer_ros.core.interfaces import BASE_V, BASE_W, BASE_X, BASE_Y, BASE_YAW, OutputKind
from poe_steer_ros.core.per_state import BACKEND, KERNELS_VARIABLE
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.selector import fuse, fuse_state
from poe_steer_ros.core.steerer import Steerer, SteeringConfig
import torch

DIMENSIONS = (2, 6, 12, 29)
BIG_BATCH = 1024
ALPHA = 0.5
TARGET_US = 10.0
DT_S = 0.002
POOL = 64
"""Distinct states cycled through in single-state runs, so no branch is warmed on one input."""
SELECTOR_MODES = ('off', 'on, not binding', 'on, binding')
"""No budget; twice the largest KL(PoE(alpha) || actor) of the states; 0.3 times the median."""
PER_STATE = 'numpy, per-state kernel'
"""``fuse_state``: what ``Steerer.step`` runs, one state at a time."""
ARRAYS = 'numpy, arrays'
TORCH = 'torch'
BACKENDS = {PER_STATE: (1,), ARRAYS: (1, BIG_BATCH), TORCH: (1, BIG_BATCH)}
"""Backends and the batch sizes each is timed at."""


def _states(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[DiagGaussian, ...]:
    """Draw actor and prior pre-squash Gaussians of the given shape."""
    actor = DiagGaussian(rng.normal(0.0, 0.7, shape), np.exp(rng.normal(-1.0, 0.4, shape)))
    prior = DiagGaussian(rng.normal(0.0, 1.0, shape), np.exp(rng.normal(-1.0, 0.6, shape)))
    return actor, prior


def _to_torch(gaussian: DiagGaussian) -> DiagGaussian:
    """Return the Gaussian as float64 torch tensors (sharing memory)."""
    return DiagGaussian(torch.from_numpy(gaussian.mean), torch.from_numpy(gaussian.std))


def _budget(actor: DiagGaussian, prior: DiagGaussian, mode: str) -> float:
    """Return the KL budget of a selector mode for these states."""
    kls = np.asarray(GaussianPair(actor, prior).kl_to_actor(Rule.POE, ALPHA))
    return {'off': 0.0, 'on, not binding': 2.0 * float(kls.max()),
            'on, binding': 0.3 * float(np.median(kls))}[mode]


def _compose(backend: str, actor: DiagGaussian, prior: DiagGaussian, budget: float) -> Any:
    """Return PoE(ALPHA) within ``budget`` as the backend computes it."""
    if backend == PER_STATE:
        return fuse_state(Rule.POE, actor, prior, ALPHA, budget)
    return fuse(Rule.POE, GaussianPair(actor, prior), ALPHA, budget)


def _chain(backend: str, envelope: SafetyEnvelope, scale: ActionScale) -> Callable[..., Any]:
    """Return the timed chain of a backend."""
    def run(actor: DiagGaussian, prior: DiagGaussian, budget: float,
            previous: np.ndarray) -> tuple[np.ndarray, bool]:
        composition, _ = _compose(backend, actor, prior, budget)
        pre_squash = composition.gaussian.mean
        if backend == PER_STATE:
            command, finite = squash_to_command(pre_squash, OutputKind.TANH_GAUSSIAN, scale)
        else:
            total = sum_last(pre_squash)
            finite = math.isfinite(total) if isinstance(total, float) else bool(
                array_namespace(total).isfinite(total).all())
            action = squash(pre_squash, OutputKind.TANH_GAUSSIAN)
            command = scale.to_command(action.numpy() if backend == TORCH else action)
        if not finite:
            raise FloatingPointError('benchmark inputs must compose to finite values')
        return envelope.clamp(command, previous, DT_S)
    return run


def _time_calls(call: Callable[[int], Any], calls: int) -> np.ndarray:
    """Return per-call wall times in seconds of ``call(index)``."""
    times = np.empty(calls)
    clock = time.perf_counter
    for index in range(calls):
        start = clock()
        call(index)
        times[index] = clock() - start
    return times


def _measure(dim: int, backend: str, batch: int, mode: str,
             calls: int) -> tuple[float, float, float]:
    """Return median and p99 per call (us) and the fraction of states where budget bound."""
    rng = np.random.default_rng(dim)
    bound = np.ones(dim)
    envelope = SafetyEnvelope(-bound, bound, np.full(dim, 50.0))
    run = _chain(backend, envelope, ActionScale(-bound, bound))
    shape = (POOL, dim) if batch == 1 else (batch, dim)
    actor, prior = _states(rng, shape)
    budget = _budget(actor, prior, mode)
    if batch == 1:
        # The array path takes one state as a batch of one; the others take a (d,) state.
        rows = [slice(row, row + 1) if backend == ARRAYS else row for row in range(POOL)]
        inputs = [(DiagGaussian(actor.mean[row], actor.std[row]),
                   DiagGaussian(prior.mean[row], prior.std[row])) for row in rows]
    else:
        inputs = [(actor, prior)]
    if backend == TORCH:
        inputs = [(_to_torch(actor_state), _to_torch(prior_state))
                  for actor_state, prior_state in inputs]
    previous = np.zeros(inputs[0][0].mean.shape)
    bound_fraction = float(np.mean(
        [np.mean(np.asarray(_compose(backend, *pair, budget)[1].binding))
         for pair in inputs])) if budget > 0.0 else 0.0
    for index in range(min(calls, 50)):  # warm-up
        run(*inputs[index % len(inputs)], budget, previous)
    times = _time_calls(lambda index: run(*inputs[index % len(inputs)], budget, previous),
                        calls)
    return float(np.median(times)) * 1e6, float(np.percentile(times, 99)) * 1e6, bound_fraction


def _steerer_step_us(calls: int) -> float:
    """Return the median ``Steerer.step`` time with a linear numpy actor and the pose prior."""
    class LinearActor:
        obs_dim, action_dim = 4, 2
        output_kind = OutputKind.TANH_GAUSSIAN
        action_low, action_high = np.array([-0.5, -1.5]), np.array([0.5, 1.5])
        weights = np.random.default_rng(0).normal(0.0, 0.3, (2, 4))
        log_std = np.full(2, -1.0)

        def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return self.weights @ obs, self.log_std

    def observe(state: Any, goal: np.ndarray) -> np.ndarray:
        return np.array([goal[0] - state[BASE_X], goal[1] - state[BASE_Y],
                         state[BASE_YAW], state[BASE_V]])

    steerer = Steerer(LinearActor(), observe,
                      SafetyEnvelope(LinearActor.action_low, LinearActor.action_high,
                                     np.array([1.0, 3.0])), SteeringConfig())
    state = {BASE_X: 0.3, BASE_Y: -0.2, BASE_YAW: 0.4, BASE_V: 0.1, BASE_W: 0.0}
    goal = np.array([1.0, 0.5])
    times = _time_calls(lambda index: steerer.step(state, goal, index * DT_S), calls)
    return float(np.median(times)) * 1e6


def _steerer_step_us_without_numba(calls: int) -> float:
    """Return ``_steerer_step_us`` in a process that runs numpy's kernels, as without numba."""
    script = ('from poe_steer_lab.bench.core_bench import _steerer_step_us; '
              f'print(_steerer_step_us({calls}))')
    with exported({KERNELS_VARIABLE: 'numpy'}):
        result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                                check=True, timeout=600)
    return float(result.stdout.split()[-1])


def _plot(rows: list[tuple[Any, ...]], path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    for backend, style in ((PER_STATE, '-'), (ARRAYS, ':')):
        for mode in SELECTOR_MODES:
            medians = [row[4] for row in rows
                       if row[1] == backend and row[2] == 1 and row[3] == mode]
            axes.plot(DIMENSIONS, medians, marker='o', linestyle=style,
                      label=f'{backend}, selector {mode}')
    axes.axhline(TARGET_US, color='grey', linestyle='--', label=f'target {TARGET_US:g} us')
    axes.set_xlabel('action dimensions d')
    axes.set_ylabel('median per single state (us)')
    axes.set_title('numpy, one state: compose + select + squash + clamp')
    axes.set_yscale('log')
    axes.legend(fontsize='small')
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def run(quick: bool = False, out_dir: pathlib.Path | None = None) -> str:
    """Measure the chain for every dimension, backend, batch and selector mode."""
    calls_single, calls_batch = (300, 5) if quick else (5000, 100)
    torch.set_num_threads(1)
    rows = []
    for dim in DIMENSIONS:
        for backend, batches in BACKENDS.items():
            for batch in batches:
                for mode in SELECTOR_MODES:
                    calls = calls_single if batch == 1 else calls_batch
                    median, p99, bound = _measure(dim, backend, batch, mode, calls)
                    rows.append((dim, backend, batch, mode, median, p99, bound))
    step_us = _steerer_step_us(calls_single)
    numpy_step_us = _steerer_step_us_without_numba(calls_single)
    vector = np.linspace(1.0, 2.0, 12)
    ufunc_us = float(np.median(_time_calls(lambda index: vector * vector, calls_single))) * 1e6
    per_state = [row[4] for row in rows if row[1] == PER_STATE]
    arrays = [row[4] for row in rows
              if row[1] == ARRAYS and row[2] == 1 and row[3] != 'on, binding']
    lines = [
        '## Steering core: compose + select + squash + clamp',
        '',
        f'Wall-clock time per call of the chain `Steerer.step` runs once the actor and the '
        f'prior have given their pre-squash Gaussians: PoE(alpha={ALPHA}) with the KL-budget '
        f'selector off, on but not binding (budget twice the largest KL at alpha), or binding '
        f'(0.3x the median KL; safeguarded Newton per state), then the finiteness guard, tanh '
        f'squash, unscaling and the envelope (bounds and rate limits). Single states cycle '
        f'through {POOL} random states; batches hold {BIG_BATCH}. {calls_single} single '
        f'calls, {calls_batch} batch calls, one torch thread, float64 throughout.',
        '',
        '| d | backend | batch | selector | median per call (us) | p99 per call (us) | '
        'per state (us) | states where budget bound |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for dim, backend, batch, mode, median, p99, bound in rows:
        lines.append(f'| {dim} | {backend} | {batch} | {mode} | {median:.1f} | {p99:.1f} | '
                     f'{median / batch:.2f} | {bound:.0%} |')
    lines += [
        '',
        f'Target: <= {TARGET_US:g} us per single state in numpy for d <= 32. The per-state '
        f'kernel, which `Steerer.step` runs, takes {min(per_state):.1f} to '
        f'{max(per_state):.1f} us over every d and selector mode, binding budget included '
        f'(median per call; worst p99 {max(row[5] for row in rows if row[1] == PER_STATE):.1f}'
        f' us). The same formulas as numpy array operations, the reference that serves batches, '
        f'take {min(arrays):.1f} to {max(arrays):.1f} us with the selector off or not binding: '
        f'about 30 calls on short vectors, each costing about one 12-vector product '
        f'({ufunc_us:.2f} us here) whatever d, which is why the per-tick path is compiled '
        f'(numba, `core/kernels.py`) where numba is installed. For reference, a whole '
        f'`Steerer.step` (linear numpy actor, pose prior, telemetry) takes {step_us:.1f} us with '
        f'the `{BACKEND}` kernels of this process, and {numpy_step_us:.1f} us with '
        f"numpy's, as on a robot without the optional numba (`{KERNELS_VARIABLE}=numpy`, "
        '`core/per_state.py`).',
    ]
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        _plot(rows, out_dir / 'core_latency.png')
        lines += ['', '![Single-state numpy latency per dimension](core_latency.png)']
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    print(run() + '\n' + machine_footer())
