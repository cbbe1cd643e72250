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
Frozen-actor forward latency per model format, batch 1 (the control tick) and batch 1024.

Every format carries the same network (observation 8 -> 256 -> 256 -> 2 actions, the size of
d3rlpy's default encoder) and goes through ``FrozenActor.__call__``, so the numbers include
the numpy <-> runtime conversions the node pays.
``perception_run`` times what an actor that sees adds per tick at batch 1 (target <= 20 us):
turning a 72-ray ``sensor_msgs/LaserScan`` into 12 sector features and scoring the observation
against a 1024-point support model, with the std widening.
Run: ``python -m poe_steer_lab.bench.actor_bench``.
"""

from __future__ import annotations

import pathlib
import tempfile
from typing import Any

import numpy as np
import onnxruntime
from poe_steer_lab.bench.machine import machine_footer
from poe_steer_lab.offline.export import export_actor, write_manifest
from poe_steer_ros.core.actor import LatencyStats, load_actor, measure_latency
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import (ActionSpec, ArchitectureSpec, ModelFormat,
                                         Normalization, ObservationSpec, OutputSpec, Provenance,
                                         StdKind)
from poe_steer_ros.core.scan import ScanBinning
from poe_steer_ros.core.support import DEFAULT_K, DEFAULT_POINTS, SupportAwareActor, SupportModel
from poe_steer_ros.core.torch_actor import GaussianMLP
from poe_steer_ros.ros.adapters import laser_scan_to_state
from sensor_msgs.msg import LaserScan
import torch

FIELDS = ('base.x', 'base.y', 'base.yaw_cos', 'base.yaw_sin', 'base.v', 'base.w',
          'goal.dx_body', 'goal.dy_body')
HIDDEN = (256, 256)
ACTION = ActionSpec(('linear_x', 'angular_z'), (-0.5, -1.5), (0.5, 1.5))
OBS_MEAN = np.zeros(len(FIELDS))
OBS_STD = np.full(len(FIELDS), 2.0)
BIG_BATCH = 1024


def _provenance() -> Provenance:
    return Provenance.now('none (random weights)', 'benchmark', 'latency only')


def _d3rlpy_iql() -> Any:
    """Build an untrained d3rlpy IQL of the same size, with standard and min-max scalers."""
    import d3rlpy

    config = d3rlpy.algos.IQLConfig(
        observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(
            mean=OBS_MEAN, std=OBS_STD),
        action_scaler=d3rlpy.preprocessing.MinMaxActionScaler(
            minimum=np.asarray(ACTION.low), maximum=np.asarray(ACTION.high)))
    algo = config.create(device='cpu:0')
    algo.create_impl((len(FIELDS),), len(ACTION.names))
    return algo


def _write_models(directory: pathlib.Path) -> dict[str, pathlib.Path]:
    """Write every format's artifact and manifest; return manifest path per label."""
    torch.manual_seed(0)
    common: dict[str, Any] = {'observation_fields': FIELDS, 'action_names': ACTION.names,
                              'provenance': _provenance()}
    head = GaussianMLP(len(FIELDS), 2, HIDDEN, std=StdKind.HEAD)
    exported = export_actor(head, directory / 'tanh_gaussian', **common,
                            observation_stats=(OBS_MEAN, OBS_STD),
                            action_bounds=(ACTION.low, ACTION.high),
                            output=OutputSpec(OutputKind.TANH_GAUSSIAN))
    deterministic = export_actor(
        GaussianMLP(len(FIELDS), 2, HIDDEN, std=StdKind.NONE, mean_activation='tanh'),
        directory / 'deterministic', **common, action_bounds=(ACTION.low, ACTION.high),
        output=OutputSpec(OutputKind.DETERMINISTIC, (0.2, 0.2)), formats=['torchscript'])
    d3rlpy_manifest = export_actor(_d3rlpy_iql(), directory / 'd3rlpy', **common,
                                   formats=['d3rlpy'])
    torch.save(head.state_dict(), directory / 'state_dict.pt')
    state_dict_manifest = write_manifest(
        directory / 'state_dict.pt', model_format=ModelFormat.STATE_DICT,
        output=OutputSpec(OutputKind.TANH_GAUSSIAN),
        observation=ObservationSpec(FIELDS, (), Normalization(
            tuple(OBS_MEAN), tuple(OBS_STD), applied_in_model=False)),
        action=ACTION, provenance=_provenance(),
        architecture=ArchitectureSpec(HIDDEN, StdKind.HEAD))
    return {
        'torchscript (tanh_gaussian, ours)': exported[ModelFormat.TORCHSCRIPT],
        'onnx (tanh_gaussian, ours)': exported[ModelFormat.ONNX],
        'state_dict (GaussianMLP, eager torch)': state_dict_manifest,
        'd3rlpy .d3 (IQL, eager torch)': d3rlpy_manifest[ModelFormat.D3RLPY],
        'torchscript (deterministic, assumed std)': deterministic[ModelFormat.TORCHSCRIPT],
    }


def _devices() -> list[str]:
    cuda = torch.cuda.is_available() or (
        'CUDAExecutionProvider' in onnxruntime.get_available_providers())
    return ['cpu', 'cuda'] if cuda else ['cpu']


def _measure(manifest: pathlib.Path, device: str, passes_single: int,
             passes_batch: int) -> tuple[str, LatencyStats, LatencyStats]:
    actor = load_actor(manifest, device=device, num_threads=1, warmup_passes=20)
    obs = actor.probe_observations(1)[0]
    batch = actor.probe_observations(BIG_BATCH)
    measure_latency(actor, batch, 3)  # warm the batch path too
    return (actor.device, measure_latency(actor, obs, passes_single),
            measure_latency(actor, batch, passes_batch))


def _plot(rows: list[tuple[str, str, LatencyStats, LatencyStats]], path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot

    labels = [f'{label}\n[{device}]' for label, device, _, _ in rows]
    medians = [single.median_s * 1e6 for _, _, single, _ in rows]
    p99s = [single.p99_s * 1e6 for _, _, single, _ in rows]
    figure, axes = pyplot.subplots(figsize=(8, 0.6 * len(rows) + 1.5))
    positions = np.arange(len(rows))
    axes.barh(positions + 0.2, medians, height=0.4, label='median')
    axes.barh(positions - 0.2, p99s, height=0.4, label='p99')
    axes.set_yticks(positions, labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel('batch-1 forward latency through FrozenActor (us)')
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


SCAN_RAYS = 72
SCAN_BINS = 12
SEEING_OBS_DIM = 6 + SCAN_BINS
PERCEPTION_TARGET_US = 20.0


class _ZeroActor:
    """An actor that costs nothing, so the timing is the support model's alone."""

    obs_dim = SEEING_OBS_DIM
    _zeros = np.zeros(2)

    def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._zeros, self._zeros


def perception_run(quick: bool = False, out_dir: pathlib.Path | None = None) -> str:
    """Time scan features and the support model at batch 1; return a markdown section."""
    passes = 200 if quick else 3000
    rng = np.random.default_rng(0)
    increment = 2 * np.pi / SCAN_RAYS
    scan = LaserScan(angle_min=-np.pi, angle_increment=increment,
                     angle_max=-np.pi + increment * (SCAN_RAYS - 1), range_min=0.05,
                     range_max=4.0, ranges=rng.uniform(0.1, 5.0, SCAN_RAYS).tolist())
    binning = ScanBinning(SCAN_BINS, 2.0)
    model = SupportModel.fit(rng.normal(size=(4 * DEFAULT_POINTS, SEEING_OBS_DIM)))
    widened = SupportAwareActor(_ZeroActor(), model, gain=1.0)
    obs = rng.normal(size=SEEING_OBS_DIM)

    def tick() -> None:
        laser_scan_to_state(scan, binning)
        widened(obs)

    rows = [('scan features (LaserScan -> 12 sectors)', lambda: laser_scan_to_state(
                scan, binning)),
            (f'support score + std widening ({DEFAULT_POINTS} points, k {DEFAULT_K})',
             lambda: widened(obs)),
            ('both: added per tick', tick)]
    lines = ['## What an actor that sees adds per tick', '',
             f'Batch 1, {passes} calls each after 100 warm-up calls: a {SCAN_RAYS}-ray LaserScan '
             f'message to {SCAN_BINS} sector features (`adapters.laser_scan_to_state`), and the '
             f'support score of a {SEEING_OBS_DIM}-field observation with the std widening '
             f'(`core.support.SupportAwareActor` around an actor that costs nothing). Target: '
             f'<= {PERCEPTION_TARGET_US:g} us added.', '',
             '| step | median (us) | p99 (us) |', '|---|---|---|']
    for label, call in rows:
        for _ in range(100):
            call()
        stats = measure_latency(lambda _: call(), obs, passes)
        lines.append(f'| {label} | {stats.median_s * 1e6:.1f} | {stats.p99_s * 1e6:.1f} |')
    return '\n'.join(lines + [''])


def run(quick: bool = False, out_dir: pathlib.Path | None = None) -> str:
    """Measure every format on every available device; return a markdown section."""
    passes_single, passes_batch = (200, 5) if quick else (3000, 50)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for label, manifest in _write_models(pathlib.Path(scratch)).items():
            for device in _devices():
                used, single, batch = _measure(manifest, device, passes_single, passes_batch)
                rows.append((label, used, single, batch))
    lines = [
        '## Frozen-actor forward latency',
        '',
        f'Wall-clock time of `FrozenActor.__call__` (numpy in, float64 mean and log-std out) for '
        f'one network, observation {len(FIELDS)} -> {HIDDEN[0]} -> {HIDDEN[1]} -> '
        f'{len(ACTION.names)}, stored in each format; one inference thread (the node default), '
        f'20 warm-up passes, then {passes_single} batch-1 calls and {passes_batch} calls of a '
        f'{BIG_BATCH}-observation batch.',
        '',
        '| format | device | batch 1 median (us) | batch 1 p99 (us) | '
        f'batch {BIG_BATCH} median (ms) | per observation at {BIG_BATCH} (us) |',
        '|---|---|---|---|---|---|',
    ]
    for label, device, single, batch in rows:
        lines.append(f'| {label} | {device} | {single.median_s * 1e6:.1f} | '
                     f'{single.p99_s * 1e6:.1f} | {batch.median_s * 1e3:.2f} | '
                     f'{batch.median_s * 1e6 / BIG_BATCH:.2f} |')
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        _plot(rows, out_dir / 'actor_latency.png')
        lines += ['', '![Batch-1 actor latency per format](actor_latency.png)']
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    print(run() + '\n' + machine_footer())
