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
Which kernels run the per-tick work: numba's compiled ones, or their numpy versions.

numba is optional. Installed, it makes a tick a few hundred microseconds shorter (a
``Steerer.step`` about 50 us instead of about 300 us, docs/benchmarks.md), and costs about 210 MB
(with llvmlite) and about 0.75 s at every start (its import and the loading of the cached
kernels). Without it the same results come from ``core.numerics`` and the array code.
The environment variable ``POE_STEER_KERNELS`` chooses, once per process: ``auto`` (default:
numba where it imports), ``numba`` (refuse to start without it) or ``numpy``.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from poe_steer_ros.core import numerics

KERNELS_VARIABLE = 'POE_STEER_KERNELS'
CHOICES = ('auto', 'numba', 'numpy')


def _load(choice: str) -> tuple[ModuleType, str]:
    """
    Return ``core.kernels`` or ``core.numerics`` as ``choice`` says, and why numpy's if so.

    ``auto`` also falls back when numba is installed but cannot compile the kernels (an older
    numba from the distribution, say): the reason is kept for the node's start-up log.
    """
    if choice not in CHOICES:
        raise ValueError(f'{KERNELS_VARIABLE} must be one of {", ".join(CHOICES)}, got '
                         f'{choice!r}')
    if choice == 'numpy':
        return numerics, f'{KERNELS_VARIABLE}=numpy'
    try:
        return importlib.import_module('poe_steer_ros.core.kernels'), ''
    except Exception as error:  # noqa: B902 (auto: any failure of numba means numpy)
        if choice == 'numba':
            raise ImportError(f'{KERNELS_VARIABLE}=numba, but the compiled kernels cannot be '
                              f'loaded: {error}') from error
        return numerics, f'numba unavailable: {type(error).__name__}: {error}'


KERNELS, WHY_NUMPY = _load(os.environ.get(KERNELS_VARIABLE, 'auto') or 'auto')
"""The module whose ``clamp``, ``squash_to_command``, ``prior_to_pre_squash``,
``sector_features`` and ``knn_mean_distance`` run, and why it is numpy's ('' for numba's)."""
COMPILED = KERNELS is not numerics
"""Whether numba's kernels run (``kernels.fuse_state`` too)."""
BACKEND = 'numba' if COMPILED else 'numpy'
"""The name status, diagnostics and logs report."""


def describe() -> str:
    """Return the backend and, for numpy's, why: what the node logs at start-up."""
    return BACKEND if COMPILED else f'{BACKEND} ({WHY_NUMPY})'
