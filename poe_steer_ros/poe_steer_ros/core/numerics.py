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
The per-state kernels' constants and their numpy implementations, without numba.

``core.kernels`` compiles the per-tick work with numba; this module holds what the rest of the
core shares with it (rule and space codes, series coefficients, limits, the two scalar bounds of
the effective prior weight) and the same kernels written as numpy array operations, with the
same arguments, results and errors. ``core.per_state`` runs the compiled kernels where numba is
installed and these otherwise: numba costs about 210 MB on a robot and about 0.75 s at every start
(its import and the loading of the cached kernels), these a few hundred microseconds more per
tick (docs/benchmarks.md).
Tests check both against each other.

Composition and selection of one state (``kernels.fuse_state``) have no copy here: without numba
``selector.fuse_state`` runs the array code of ``compose.py`` and ``selector.py`` on a batch of
one state.
"""

from __future__ import annotations

import math

import numpy as np

FROZEN, POE, KL, ADDITIVE, PRIOR_ONLY = range(5)
"""Rule codes of the kernels, in the order of ``compose.Rule``."""
PRE_SQUASH_SPACE, ACTION_SPACE, COMMAND_SPACE = range(3)
"""Space codes of the kernels, in the order of ``interfaces.Space``."""

EPS = float(np.finfo(np.float64).eps)
SERIES_STEP = 0.01
"""Below this ``|t q|``, ``log(1 + x) - x / (1 + x)`` is summed as its series (no cancellation)."""
SERIES = tuple((-1.0) ** k * (k - 1) / k for k in range(11, 1, -1))
"""Its coefficients ``(-1)**k (k - 1) / k`` for ``x**k``, k = 11 down to 2 (Horner order)."""
RATIO_MAX = 1e300
"""
Largest precision ratio ``lam_G / lam_A`` composed: tiny positive stds would overflow it to inf
(and ``0 * inf`` to NaN); at 1e300 the prior already takes the effective weight 1.
"""
SHORTEST = 4.0 * EPS
"""The selector stops once its bracket is this narrow relative to its upper end."""
MIN_DT_S = 1e-9
"""Rate limits use at least this time step, so an infinite rate stays unlimited when time
does not advance (``inf * 0`` would be NaN)."""


def weight_cap(rule: int, max_weight: float, max_prior_weight: float) -> float:
    """Return ``max_weight`` capped so that the weight itself stays within ``max_prior_weight``."""
    if max_prior_weight >= 1.0 or rule == FROZEN or rule == PRIOR_ONLY:
        return max_weight
    cap = max_prior_weight / (1.0 - max_prior_weight) if rule == KL else max_prior_weight
    return max_weight if max_weight < cap else cap


def prior_std_floor(rule: int, weight: float, max_prior_weight: float,
                    actor_std: float) -> float:
    """
    Return the smallest prior std that keeps the effective weight ``w`` <= ``max_prior_weight``.

    ``w = t r / (1 - t + t r)`` (poe) or ``t r / (1 + t r)`` (kl) grows with the precision
    ratio ``r = lam_G / lam_A``, up to 1 for a prior std near 0 whatever ``t``; ``w <= m`` holds
    while ``r <= m (1 - t) / (t (1 - m))`` (poe) or ``m / (t (1 - m))`` (kl). ``t`` must not
    exceed ``weight_cap``. The bound is tightened by a few epsilons against rounding.
    """
    if max_prior_weight >= 1.0 or weight <= 0.0 or not (rule == POE or rule == KL):
        return 0.0
    odds = max_prior_weight / (1.0 - max_prior_weight)
    ratio_max = odds * (1.0 - weight) / weight if rule == POE else odds / weight
    return actor_std / math.sqrt(ratio_max * (1.0 - 8.0 * EPS))


def _per_dimension(values: np.ndarray, dim: int, size: int) -> np.ndarray:
    """Repeat a ``(dim,)`` vector over a flattened batch of ``size`` entries."""
    return np.tile(values, size // dim)


def valid(mean: np.ndarray, std: np.ndarray) -> bool:
    """Return whether every mean is finite and every std finite and > 0."""
    return bool(np.isfinite(mean).all() and ((std > 0.0) & (std < math.inf)).all())


def clamp(command: np.ndarray, low: np.ndarray, high: np.ndarray, max_rate_per_s: np.ndarray,
          previous: np.ndarray, dt_s: float, rate_limited: bool, out: np.ndarray) -> bool:
    """``kernels.clamp`` as array operations: the same results, bit for bit."""
    dim, size = low.shape[0], command.shape[0]
    if size % dim != 0 or out.shape[0] != size or (rate_limited and previous.shape[0] != size):
        raise ValueError('command and previous command need one entry per envelope dimension')
    lower, upper = _per_dimension(low, dim, size), _per_dimension(high, dim, size)
    if rate_limited:
        max_step = _per_dimension(max_rate_per_s, dim, size) * (
            dt_s if dt_s > MIN_DT_S else MIN_DT_S)
        lower = np.maximum(lower, previous - max_step)
        upper = np.minimum(upper, previous + max_step)
    np.minimum(np.maximum(command, lower), upper, out=out)
    return bool((out != command).any())


def squash_to_command(pre_squash: np.ndarray, tanh: bool, scale: np.ndarray, offset: np.ndarray,
                      out: np.ndarray) -> bool:
    """``kernels.squash_to_command`` as array operations."""
    dim = scale.shape[0]
    if pre_squash.shape[0] != dim or out.shape[0] != dim:
        raise ValueError('pre-squash vector and command need one entry per action dimension')
    action = np.tanh(pre_squash) if tanh else np.minimum(np.maximum(pre_squash, -1.0), 1.0)
    out[:] = offset + scale * action
    return bool(np.isfinite(pre_squash).all())


def prior_to_pre_squash(mean: np.ndarray, std: np.ndarray, space: int, low: np.ndarray,
                        high: np.ndarray, scale: np.ndarray, offset: np.ndarray, tanh: bool,
                        eps: float, std_min: float, std_max: float, mean_out: np.ndarray,
                        std_out: np.ndarray) -> bool:
    """``kernels.prior_to_pre_squash`` as array operations."""
    dim, size = scale.shape[0], mean.shape[0]
    if size % dim != 0 or std.shape[0] != size or mean_out.shape[0] != size:
        raise ValueError('prior mean and std need one entry per action dimension')
    if not valid(mean, std):
        return False
    value, spread = mean, std
    if space == COMMAND_SPACE:
        scales = _per_dimension(scale, dim, size)
        bounded = np.minimum(np.maximum(value, _per_dimension(low, dim, size)),
                             _per_dimension(high, dim, size))
        value, spread = (bounded - _per_dimension(offset, dim, size)) / scales, spread / scales
    if space != PRE_SQUASH_SPACE and tanh:
        value = np.minimum(np.maximum(value, eps - 1.0), 1.0 - eps)
        value, spread = np.arctanh(value), spread / (1.0 - value * value)
    elif space != PRE_SQUASH_SPACE:
        value = np.minimum(np.maximum(value, -1.0), 1.0)
    mean_out[:] = value
    std_out[:] = np.minimum(np.maximum(spread, std_min), std_max)
    return True


def sector_features(ranges: np.ndarray, sectors: np.ndarray, range_min: float,
                    range_max: float, cap: float, out: np.ndarray) -> bool:
    """Fill ``out`` with each sector's nearest reading over ``cap``; False on a NaN reading."""
    readings = np.asarray(ranges, dtype=np.float64)
    if np.isnan(readings).any():
        return False
    readings = np.where(readings > range_max, cap,
                        np.where(readings < range_min, 0.0, readings))
    out[:] = cap
    np.minimum.at(out, sectors, readings)
    out /= cap
    return True


def knn_mean_distance(points: np.ndarray, obs: np.ndarray, mean: np.ndarray, std: np.ndarray,
                      k: int) -> float:
    """Mean distance from normalised ``obs`` to its ``k`` nearest rows of ``points``."""
    distance_sq = np.square(points - (obs - mean) / std).sum(axis=1)
    return float(np.sqrt(np.partition(distance_sq, k - 1)[:k]).mean())
