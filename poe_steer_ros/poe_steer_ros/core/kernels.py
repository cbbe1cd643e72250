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
Compiled single-state kernels: the per-tick path of ``Steerer.step``, where numba is installed.

A control tick composes one state. Written with numpy array operations, composition, KL-budget
selection and the envelope take about 30 calls on vectors of a few entries, and each call costs
0.2 to 0.3 us of dispatch whatever the length: about 14 us per tick, and five times that when
the budget binds. numba compiles the same formulas into one loop per call instead; the scan
binning and the support score get one loop each too.

These kernels mirror, operation for operation, the array code that stays the reference and
serves batches and torch: ``GaussianPair`` (ratio form, ``compose.py``), ``select_weight``'s
safeguarded Newton (``selector.py``), and ``core.numerics`` (clamp, squash, prior mapping, scan
sectors, kNN distance), which runs in their place without numba (``core.per_state``). Tests
check kernel and reference against each other. The Python wrappers (``selector.fuse_state``,
``gaussian.squash_to_command`` and ``gaussian.to_pre_squash``, ``SafetyEnvelope.clamp``,
``ScanBinning.features``, ``SupportModel.distance``) check the arguments and hand in float64
vectors; the kernels that take separately made vectors check their lengths too, so nothing is
read out of bounds.

The kernels are compiled for one signature when this module is first imported and cached next
to it (numba's ``cache=True``; numba falls back to a per-user cache folder where that is
read-only), so a control loop never compiles.
"""

from __future__ import annotations

import math
from typing import Any

import numba
from numba import types
import numpy as np
from poe_steer_ros.core import numerics
from poe_steer_ros.core.numerics import (ADDITIVE, COMMAND_SPACE, EPS, FROZEN, KL, MIN_DT_S, POE,
                                         PRE_SQUASH_SPACE, PRIOR_ONLY, RATIO_MAX, SERIES,
                                         SERIES_STEP, SHORTEST)

_VECTOR = types.Array(types.float64, 1, 'A', readonly=True)
"""Any float64 vector, read-only or not, contiguous or strided."""
_OUT = types.Array(types.float64, 1, 'C')
_JIT: dict[str, Any] = {'nogil': True, 'cache': True, 'error_model': 'numpy'}
"""IEEE division (x / 0 is inf or NaN, as in numpy); NaN and inf are handled explicitly."""


@numba.njit(**_JIT)
def _ratio_and_gap_sq(actor_mean: np.ndarray, actor_std: np.ndarray, prior_mean: np.ndarray,
                      prior_std: np.ndarray, index: int) -> tuple[float, float]:
    """Return ``r = lam_G / lam_A`` (at most ``RATIO_MAX``) and ``z**2`` of one dimension."""
    actor_var = actor_std[index] * actor_std[index]
    gap = prior_mean[index] - actor_mean[index]
    ratio = actor_var / (prior_std[index] * prior_std[index])
    return ratio if ratio < RATIO_MAX else RATIO_MAX, gap * gap / actor_var


@numba.njit(**_JIT)
def _path_terms(rule: int, weight: float, ratio: float) -> tuple[float, float, float]:
    """Return ``t q``, ``s`` and ``w`` at weight ``t`` (``GaussianPair._path``)."""
    t_ratio = weight * ratio
    if rule == POE:
        step, scale = t_ratio - weight, t_ratio + (1.0 - weight)
    else:
        step, scale = t_ratio, t_ratio + 1.0
    return step, scale, t_ratio / scale


@numba.njit(**_JIT)
def _path_kl(rule: int, actor_mean: np.ndarray, actor_std: np.ndarray, prior_mean: np.ndarray,
             prior_std: np.ndarray, weight: float) -> float:
    """Return ``0.5 sum(log s - t q / s + w**2 z**2)`` (``GaussianPair._path_kl``)."""
    total = 0.0
    direct_log = rule == POE and not weight <= 0.5
    for index in range(actor_mean.shape[0]):
        ratio, gap_sq = _ratio_and_gap_sq(actor_mean, actor_std, prior_mean, prior_std, index)
        step, scale, prior_weight = _path_terms(rule, weight, ratio)
        if abs(step) < SERIES_STEP:
            series = 0.0
            for coefficient in SERIES:
                series = series * step + coefficient
            volume = series * step * step
        else:
            log_scale = math.log(scale) if direct_log and not scale > 0.5 else math.log1p(step)
            volume = log_scale - step / scale
        total += volume + prior_weight * prior_weight * gap_sq
    return 0.5 * total


@numba.njit(**_JIT)
def _path_kl_slope(rule: int, actor_mean: np.ndarray, actor_std: np.ndarray,
                   prior_mean: np.ndarray, prior_std: np.ndarray, weight: float) -> float:
    """Return ``t sum(0.5 q**2 / s**2 + z**2 r**2 / s**3)`` (``GaussianPair.kl_slope``)."""
    total = 0.0
    for index in range(actor_mean.shape[0]):
        ratio, gap_sq = _ratio_and_gap_sq(actor_mean, actor_std, prior_mean, prior_std, index)
        half_slope_sq, gap_sq_ratio_sq = _slope_terms(rule, ratio, gap_sq)
        inverse = 1.0 / _path_terms(rule, weight, ratio)[1]
        total += inverse * inverse * (half_slope_sq + gap_sq_ratio_sq * inverse)
    return weight * total


@numba.njit(**_JIT)
def _slope_terms(rule: int, ratio: float, gap_sq: float) -> tuple[float, float]:
    """Return ``0.5 q**2`` and ``z**2 r**2`` of one dimension."""
    slope = ratio - 1.0 if rule == POE else ratio
    return 0.5 * slope * slope, gap_sq * ratio * ratio


@numba.njit(**_JIT)
def _positive(slope: float) -> float:
    """Map a zero or NaN slope to inf, so that Newton stalls and bisection takes over."""
    return slope if slope > 0.0 else math.inf


@numba.njit(**_JIT)
def _select_additive(actor_mean: np.ndarray, actor_std: np.ndarray, prior_mean: np.ndarray,
                     prior_std: np.ndarray, max_weight: float, kl_budget: float,
                     rtol: float) -> tuple[float, float, float]:
    """Additive rule: the cap if feasible, else the closed-form weight (``_select_additive``)."""
    total = 0.0
    for index in range(actor_mean.shape[0]):
        total += _ratio_and_gap_sq(actor_mean, actor_std, prior_mean, prior_std, index)[1]
    if kl_budget < 0.0 or 0.5 * max_weight * max_weight * total <= kl_budget:
        weight = max_weight
    elif total == total:
        weight = math.sqrt(2.0 * kl_budget * (1.0 - 0.5 * rtol) / total)
    else:
        weight = 0.0
    return weight, 0.5 * weight * weight * total, 1.0 if weight < max_weight else 0.0


@numba.njit(**_JIT)
def _margin(rtol: float, weight: float, slope: float) -> float:
    """Return the KL change of half the weight tolerance, ``0.5 rtol t slope`` (0 if unknown)."""
    margin = 0.5 * rtol * weight * slope
    return margin if margin >= 0.0 and margin < math.inf else 0.0


@numba.njit(**_JIT)
def _select_path(rule: int, actor_mean: np.ndarray, actor_std: np.ndarray,
                 prior_mean: np.ndarray, prior_std: np.ndarray, max_weight: float,
                 kl_budget: float, rtol: float, max_iter: int) -> tuple[float, float, float]:
    """Safeguarded Newton along PoE or KL-reg (``selector._select_batch`` for one state)."""
    gaussians = (actor_mean, actor_std, prior_mean, prior_std)
    kl_max = _path_kl(rule, *gaussians, max_weight)
    if math.isnan(kl_max):
        return 0.0, 0.0, 1.0
    if kl_max <= kl_budget:
        return max_weight, kl_max, 0.0
    if kl_budget <= 0.0:
        return 0.0, 0.0, 1.0
    lower, kl_lower, upper = 0.0, 0.0, max_weight
    slope_max = _positive(_path_kl_slope(rule, *gaussians, max_weight))
    weight = _start(rule, actor_mean, actor_std, prior_mean, prior_std, kl_budget, max_weight,
                    kl_max, slope_max)
    for _ in range(max_iter):
        kl = _path_kl(rule, *gaussians, weight)
        if kl <= kl_budget:
            lower, kl_lower = weight, kl
        elif kl > kl_budget:
            upper = weight
        else:
            break
        if upper - lower <= SHORTEST * upper:
            break
        slope = _path_kl_slope(rule, *gaussians, weight)
        margin = _margin(rtol, weight, slope)
        if kl <= kl_budget and kl_budget - kl <= 2.0 * margin:
            break
        target = min(kl_budget - margin, kl_budget * (1.0 - 2.0 * EPS))
        newton = weight - (kl - target) / _positive(slope)
        weight = newton if newton > lower and newton < upper else 0.5 * (lower + upper)
    return lower, kl_lower, 1.0


@numba.njit(**_JIT)
def _start(rule: int, actor_mean: np.ndarray, actor_std: np.ndarray, prior_mean: np.ndarray,
           prior_std: np.ndarray, target: float, max_weight: float, kl_max: float,
           slope_max: float) -> float:
    """Return the larger usable first guess (``selector._start``), else the midpoint."""
    curvature = 0.0
    for index in range(actor_mean.shape[0]):
        ratio, gap_sq = _ratio_and_gap_sq(actor_mean, actor_std, prior_mean, prior_std, index)
        half_slope_sq, gap_sq_ratio_sq = _slope_terms(rule, ratio, gap_sq)
        curvature += half_slope_sq + gap_sq_ratio_sq
    quadratic = (2.0 * target / curvature) ** 0.5 if curvature > 0.0 else 0.0
    from_cap = max_weight - (kl_max - target) / slope_max
    quadratic = quadratic if quadratic > 0.0 and quadratic < max_weight else 0.0
    from_cap = from_cap if from_cap > 0.0 and from_cap < max_weight else 0.0
    best = quadratic if quadratic > from_cap else from_cap
    return best if best > 0.0 else 0.5 * max_weight


@numba.njit(**_JIT)
def _valid(mean: np.ndarray, std: np.ndarray) -> bool:
    """Return whether every mean is finite and every std finite and > 0."""
    for index in range(mean.shape[0]):
        if not (math.isfinite(mean[index]) and std[index] > 0.0 and std[index] < math.inf):
            return False
    return True


weight_cap = numba.njit(**_JIT)(numerics.weight_cap)
prior_std_floor = numba.njit(**_JIT)(numerics.prior_std_floor)


@numba.njit(types.UniTuple(types.float64, 3)(types.int64, _VECTOR, _VECTOR, _VECTOR, _VECTOR,
                                             types.float64, types.float64, types.float64,
                                             types.int64, types.float64, _OUT, _OUT, _OUT),
            **_JIT)
def fuse_state(rule: int, actor_mean: np.ndarray, actor_std: np.ndarray, prior_mean: np.ndarray,
               prior_std: np.ndarray, max_weight: float, kl_budget: float, rtol: float,
               max_iter: int, max_prior_weight: float, mean_out: np.ndarray,
               std_out: np.ndarray, prior_weight_out: np.ndarray) -> tuple[float, float, float]:
    """
    Compose one state by ``rule`` at ``max_weight``, or within ``kl_budget`` when it is >= 0.

    A negative ``kl_budget`` turns the selector off (the weight is ``max_weight``); a zero one
    selects the largest weight with zero KL, as ``select_weight`` does. ``max_prior_weight``
    bounds the effective prior weight of every dimension (1: no bound): the weight is capped
    and the prior's std raised to ``prior_std_floor``. kl at ``max_weight = inf`` is the prior
    alone.

    Writes the composed mean and std and the effective prior weight per dimension into the
    ``*_out`` vectors and returns (weight used, KL(composed || actor), 1.0 if the budget bound
    else 0.0), as ``selector.fuse`` does for one state. A non-finite mean or a std that is not
    finite and > 0 returns a NaN weight and writes nothing.
    """
    dim = actor_mean.shape[0]
    if not (_valid(actor_mean, actor_std) and _valid(prior_mean, prior_std)):
        return math.nan, math.nan, 0.0
    alone_weight = 0.0
    if rule == KL and max_weight == math.inf and max_prior_weight >= 1.0:
        rule, alone_weight = PRIOR_ONLY, math.inf
    max_weight = weight_cap(rule, max_weight, max_prior_weight)
    floored = np.empty(dim)
    for index in range(dim):
        floor = prior_std_floor(rule, max_weight, max_prior_weight, actor_std[index])
        floored[index] = prior_std[index] if prior_std[index] > floor else floor
    if rule == FROZEN or rule == PRIOR_ONLY:
        source_mean = actor_mean if rule == FROZEN else prior_mean
        source_std = actor_std if rule == FROZEN else prior_std
        total = 0.0
        for index in range(dim):
            mean_out[index] = source_mean[index]
            std_out[index] = source_std[index]
            prior_weight_out[index] = 0.0 if rule == FROZEN else 1.0
            if rule == PRIOR_ONLY:
                ratio, gap_sq = _ratio_and_gap_sq(actor_mean, actor_std, prior_mean, prior_std,
                                                  index)
                total += 1.0 / ratio - 1.0 + math.log(ratio) + gap_sq
        return alone_weight, 0.5 * total, 0.0
    if rule == ADDITIVE:
        weight, kl, binding = _select_additive(actor_mean, actor_std, prior_mean, floored,
                                               max_weight, kl_budget, rtol)
        for index in range(dim):
            mean_out[index] = actor_mean[index] + weight * (prior_mean[index] - actor_mean[index])
            std_out[index] = actor_std[index]
            prior_weight_out[index] = weight
        return weight, kl, binding
    if kl_budget >= 0.0:
        weight, kl, binding = _select_path(rule, actor_mean, actor_std, prior_mean, floored,
                                           max_weight, kl_budget, rtol, max_iter)
    else:
        weight, kl, binding = max_weight, _path_kl(rule, actor_mean, actor_std, prior_mean,
                                                   floored, max_weight), 0.0
    for index in range(dim):
        ratio, _ = _ratio_and_gap_sq(actor_mean, actor_std, prior_mean, floored, index)
        _, scale, prior_weight = _path_terms(rule, weight, ratio)
        mean_out[index] = actor_mean[index] + prior_weight * (prior_mean[index]
                                                              - actor_mean[index])
        std_out[index] = actor_std[index] / math.sqrt(scale)
        prior_weight_out[index] = prior_weight
    return weight, kl, binding


@numba.njit(types.boolean(_VECTOR, _VECTOR, _VECTOR, _VECTOR, _VECTOR, types.float64,
                          types.boolean, _OUT), **_JIT)
def clamp(command: np.ndarray, low: np.ndarray, high: np.ndarray, max_rate_per_s: np.ndarray,
          previous: np.ndarray, dt_s: float, rate_limited: bool, out: np.ndarray) -> bool:
    """
    Write ``command`` clipped to the bounds (and rate limits if ``rate_limited``) into ``out``.

    ``command``, ``previous`` and ``out`` hold one or more commands back to back (a flattened
    ``(N, d)`` batch). The rate limits use at least ``MIN_DT_S`` (also for a NaN ``dt_s``).
    Returns whether any entry changed; NaN entries stay NaN and count as changed, as with
    ``numpy.minimum``.
    """
    dim = low.shape[0]
    size = command.shape[0]
    if size % dim != 0 or out.shape[0] != size or (rate_limited and previous.shape[0] != size):
        raise ValueError('command and previous command need one entry per envelope dimension')
    step_s = dt_s if dt_s > MIN_DT_S else MIN_DT_S
    changed = False
    for flat in range(size):
        index = flat % dim
        lower, upper = low[index], high[index]
        if rate_limited:
            max_step = max_rate_per_s[index] * step_s
            lower = np.maximum(lower, previous[flat] - max_step)
            upper = np.minimum(upper, previous[flat] + max_step)
        value = np.minimum(np.maximum(command[flat], lower), upper)
        out[flat] = value
        changed = changed or value != command[flat]
    return changed


@numba.njit(types.boolean(_VECTOR, types.boolean, _VECTOR, _VECTOR, _OUT), **_JIT)
def squash_to_command(pre_squash: np.ndarray, tanh: bool, scale: np.ndarray, offset: np.ndarray,
                      out: np.ndarray) -> bool:
    """
    Write ``offset + scale * squash(pre_squash)`` into ``out``; return whether all is finite.

    ``squash`` is tanh (tanh-Gaussian actors) or a clip to [-1, 1] (``gaussian.squash``).
    """
    dim = scale.shape[0]
    if pre_squash.shape[0] != dim or out.shape[0] != dim:
        raise ValueError('pre-squash vector and command need one entry per action dimension')
    finite = True
    for index in range(dim):
        value = pre_squash[index]
        finite = finite and math.isfinite(value)
        action = math.tanh(value) if tanh else np.minimum(np.maximum(value, -1.0), 1.0)
        out[index] = offset[index] + scale[index] * action
    return finite


@numba.njit(types.boolean(_VECTOR, _VECTOR, types.int64, _VECTOR, _VECTOR, _VECTOR, _VECTOR,
                          types.boolean, types.float64, types.float64, types.float64, _OUT,
                          _OUT), **_JIT)
def prior_to_pre_squash(mean: np.ndarray, std: np.ndarray, space: int, low: np.ndarray,
                        high: np.ndarray, scale: np.ndarray, offset: np.ndarray, tanh: bool,
                        eps: float, std_min: float, std_max: float, mean_out: np.ndarray,
                        std_out: np.ndarray) -> bool:
    """
    Map a prior to pre-squash space: ``gaussian.to_pre_squash`` plus the Steerer's clips.

    ``mean`` and ``std`` hold one or more vectors back to back (a flattened batch); ``space`` is
    ``PRE_SQUASH_SPACE``, ``ACTION_SPACE`` or ``COMMAND_SPACE``. A command-space mean is clipped
    to ``[low, high]`` and mapped to the normalised action; an action is then clipped and
    mapped through ``atanh`` with the delta method for the std (tanh actors) or clipped to
    [-1, 1] (other actors); the std is clipped to ``[std_min, std_max]`` last. Returns False
    (the outputs are then meaningless) for a non-finite mean or a std that is not finite and
    > 0.
    """
    dim = scale.shape[0]
    size = mean.shape[0]
    if size % dim != 0 or std.shape[0] != size or mean_out.shape[0] != size:
        raise ValueError('prior mean and std need one entry per action dimension')
    if not _valid(mean, std):
        return False
    for flat in range(size):
        index = flat % dim
        value, spread = mean[flat], std[flat]
        if space == COMMAND_SPACE:
            bounded = np.minimum(np.maximum(value, low[index]), high[index])
            value, spread = (bounded - offset[index]) / scale[index], spread / scale[index]
        if space != PRE_SQUASH_SPACE and tanh:
            value = np.minimum(np.maximum(value, eps - 1.0), 1.0 - eps)
            value, spread = math.atanh(value), spread / (1.0 - value * value)
        elif space != PRE_SQUASH_SPACE:
            value = np.minimum(np.maximum(value, -1.0), 1.0)
        mean_out[flat] = value
        std_out[flat] = np.minimum(np.maximum(spread, std_min), std_max)
    return True


@numba.njit(types.boolean(_VECTOR, types.Array(types.intp, 1, 'A', readonly=True), types.float64,
                          types.float64, types.float64, _OUT), **_JIT)
def sector_features(ranges: np.ndarray, sectors: np.ndarray, range_min: float,
                    range_max: float, cap: float, out: np.ndarray) -> bool:
    """Fill ``out`` with each sector's nearest reading over ``cap``; False on a NaN reading."""
    out[:] = cap
    for index in range(ranges.shape[0]):
        reading = ranges[index]
        if reading != reading:
            return False
        if reading > range_max:
            reading = cap
        elif reading < range_min:
            reading = 0.0
        sector = sectors[index]
        if reading < out[sector]:
            out[sector] = reading
    for sector in range(out.shape[0]):
        out[sector] /= cap
    return True


@numba.njit(types.float64(types.Array(types.float64, 2, 'C', readonly=True), _VECTOR, _VECTOR,
                          _VECTOR, types.int64), nogil=True, cache=True, fastmath=True)
def knn_mean_distance(points: np.ndarray, obs: np.ndarray, mean: np.ndarray, std: np.ndarray,
                      k: int) -> float:
    """Mean distance from normalised ``obs`` to its ``k`` nearest rows of ``points``."""
    query = (obs - mean) / std
    best = np.full(k, np.inf)
    for row in range(points.shape[0]):
        total = 0.0
        for col in range(points.shape[1]):  # no early exit: the sum vectorises (fastmath)
            diff = points[row, col] - query[col]
            total += diff * diff
        if total < best[k - 1]:
            slot = k - 1
            while slot > 0 and best[slot - 1] > total:
                best[slot] = best[slot - 1]
                slot -= 1
            best[slot] = total
    result = 0.0
    for slot in range(k):
        result += math.sqrt(best[slot])
    return result / k
