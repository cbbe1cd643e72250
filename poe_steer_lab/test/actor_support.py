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

"""Helpers for the actor runtime tests: small models, datasets and manifests made in-test."""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
from poe_steer_ros.core.manifest import ActionSpec, Provenance
import torch

FIELDS = ('base.yaw_cos', 'base.yaw_sin', 'base.v', 'goal.dx_body', 'goal.dy_body')
"""A mobile-base observation of five features."""
ACTION = ActionSpec(('linear_x', 'angular_z'), (-0.5, -1.5), (0.5, 1.5))
OBS_MEAN = (0.0, 0.0, 0.2, 1.0, -0.5)
OBS_STD = (0.7, 0.7, 0.3, 2.0, 1.5)


def provenance() -> Provenance:
    return Provenance('tiny generated dataset', 'hand-made', 'unit test', '2026-11-25', seed=0)


def flip_byte(path: pathlib.Path) -> None:
    """Flip every bit of one byte in the middle of a file."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def torch_outputs(module: torch.nn.Module, obs: np.ndarray) -> tuple[np.ndarray, ...]:
    """Run a torch module on float32 observations; return its outputs as float64 arrays."""
    with torch.no_grad():
        out = module(torch.as_tensor(obs, dtype=torch.float32))
    outputs = out if isinstance(out, tuple) else (out,)
    return tuple(o.numpy().astype(np.float64) for o in outputs)


def offset_observations(rows: int, obs_dim: int = 3, seed: int = 0) -> np.ndarray:
    """Return random observations far from zero mean and unit scale, so scalers matter."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, obs_dim)) * np.arange(1, obs_dim + 1) + 3.0


def tiny_dataset(obs_dim: int = 3, action_dim: int = 2, size: int = 200, seed: int = 0) -> Any:
    """Return random transitions (episodes of 50 steps) over ``offset_observations``."""
    import d3rlpy

    rng = np.random.default_rng(seed + 1)
    observations = offset_observations(size, obs_dim, seed)
    actions = rng.uniform(-0.4, 0.8, size=(size, action_dim))
    terminals = (np.arange(size) % 50 == 49).astype(np.float32)
    return d3rlpy.dataset.MDPDataset(observations.astype(np.float32),
                                     actions.astype(np.float32),
                                     rng.normal(size=size).astype(np.float32), terminals)


def fit_d3rlpy(config: Any, dataset: Any, steps: int = 10) -> Any:
    """Train a d3rlpy algorithm for a few steps on the CPU, writing no logs."""
    import d3rlpy

    algo = config.create(device='cpu:0')
    algo.fit(dataset, n_steps=steps, n_steps_per_epoch=steps, show_progress=False,
             logger_adapter=d3rlpy.logging.NoopAdapterFactory())
    return algo


def small_encoder() -> Any:
    import d3rlpy

    return d3rlpy.models.VectorEncoderFactory([32, 32])
