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
KL-budget selector: the largest prior weight whose composition stays near the actor.

``weight* = max {t in [0, t_max] : KL(pi_t || pi_A) <= budget}``, exact per state.

Along the PoE path (t = alpha) and the KL-reg path (t = beta) the derivative of the KL is
``t`` times a variance (``GaussianPair.kl_slope``), so the KL never decreases with ``t``
and the feasible set is an interval ``[0, weight*]``. If ``t_max`` is feasible it is the answer;
otherwise a safeguarded Newton iteration finds the root inside a bracket that always holds a
feasible lower end. Its tolerance is relative to the weight: it stops at a feasible weight
once Newton's step to the budget is below ``rtol`` times that weight, or once the bracket is
a few float64 epsilons wide relative to its upper end; each step aims half that tolerance
below the budget, so the iterate lands feasible. The returned weight is feasible as computed
and within about ``rtol`` (relative) of the largest feasible one, for any cap and any ratio of
stds. The additive rule's KL is ``0.5 t**2 sum(z**2)``, solved in closed form.

``max_prior_weight`` (the envelope's ``alpha_max``) bounds the effective prior weight ``w`` of
every dimension, not only the weight: ``w`` approaches 1 as the prior's std goes to 0 whatever
alpha, so the prior's std is raised to ``numerics.prior_std_floor`` first.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, cast

import numpy as np

from poe_steer_ros.core import numerics, per_state
from poe_steer_ros.core.compose import (checked_weight, Composition, GaussianPair,
                                        quiet_float_errors, Rule, RULE_TRAITS, Weight,
                                        WEIGHTED_RULES)
from poe_steer_ros.core.gaussian import (Array, array_namespace, check_gaussians, DiagGaussian,
                                         sum_last)

_EPS = float(np.finfo(np.float64).eps)
RTOL = 1e-10
"""Default relative tolerance of the selected weight."""
MAX_ITER = 100
"""Default iteration cap of the safeguarded Newton."""
_RULE_CODES = {rule: code for code, rule in enumerate(Rule)}
"""The kernels number the rules in the order of ``Rule``."""


@dataclasses.dataclass(frozen=True, slots=True)
class Selection:
    """The weight the selector chose and the KL it costs, one value per state."""

    weight: Weight
    """alpha (poe, additive) or beta (kl); a float for a single state."""
    kl: Weight
    """KL(composed || actor) at ``weight``, in nats."""
    binding: bool | Array
    """True where the budget, not ``max_weight``, set the weight."""


def _check(rule: Rule, kl_budget: float, max_weight: float) -> None:
    """Reject rules without a weight, negative budgets and negative caps."""
    if rule not in WEIGHTED_RULES:
        raise ValueError(f'rule {rule!r} has no weight to select; use poe, kl or additive')
    if not kl_budget >= 0.0:
        raise ValueError(f'kl_budget must be >= 0 nats, got {kl_budget}')
    upper = RULE_TRAITS[rule].max_weight
    if not (0.0 <= max_weight <= upper and math.isfinite(max_weight)):
        raise ValueError(f'max_weight for rule {rule.value} must be finite in [0, {upper}], '
                         f'got {max_weight}')


def select_weight(rule: Rule, pair: GaussianPair, kl_budget: float, max_weight: float, *,
                  rtol: float = RTOL, max_iter: int = MAX_ITER) -> Selection:
    """
    Return the largest weight in ``[0, max_weight]`` with ``KL(composed || actor) <= kl_budget``.

    :param rule: poe, kl or additive.
    :param pair: the actor and prior Gaussians, single ``(d,)`` or batched ``(N, d)``.
    :param kl_budget: the budget in nats (>= 0).
    :param max_weight: the finite cap (alpha <= 1 for poe and additive, any beta for kl).
    :param rtol: relative tolerance of the weight (see the module docstring).
    :param max_iter: iteration cap; on reaching it the best feasible weight found is returned.
    :return: The weights (floats for a single state), their KL and where the budget was binding.
        A state whose KL is NaN (non-finite inputs) gets the feasible lower end found so far.
    :raises ValueError: for a rule without a weight or a negative budget or cap.
    """
    _check(rule, kl_budget, max_weight)
    if pair.mean_gap.ndim == 1:
        return _select_state(rule, pair, kl_budget, max_weight, rtol, max_iter)
    if rule is Rule.ADDITIVE:
        return _select_additive(pair, kl_budget, max_weight, rtol)
    with quiet_float_errors(array_namespace(pair.mean_gap)):
        return _select_batch(rule, pair, kl_budget, max_weight, rtol, max_iter)


def _select_state(rule: Rule, pair: GaussianPair, kl_budget: float, max_weight: float,
                  rtol: float, max_iter: int) -> Selection:
    """Select for one state: numpy through the compiled kernel, else as a batch of one."""
    actor, prior = pair.actor, pair.prior
    if per_state.COMPILED and type(pair.mean_gap) is np.ndarray:
        return _run_kernel(rule, actor, prior, max_weight, kl_budget, rtol, max_iter)[1]
    selection = select_weight(rule, _batch_of_one(actor, prior), kl_budget, max_weight,
                              rtol=rtol, max_iter=max_iter)
    return Selection(float(selection.weight[0]), float(selection.kl[0]),
                     bool(cast(Array, selection.binding)[0]))


def _batch_of_one(actor: DiagGaussian, prior: DiagGaussian) -> GaussianPair:
    """Return the pair of one state as a batch of one, for the array code."""
    return GaussianPair(*(DiagGaussian(gaussian.mean[None], gaussian.std[None], gaussian.space)
                          for gaussian in (actor, prior)))


def _run_kernel(rule: Rule, actor: DiagGaussian, prior: DiagGaussian, max_weight: float,
                kl_budget: float, rtol: float, max_iter: int,
                max_prior_weight: float = 1.0) -> tuple[Composition, Selection]:
    """
    Run ``kernels.fuse_state`` on one numpy state of checked arguments.

    ``kl_budget`` >= 0 selects the weight within it; a negative one composes at ``max_weight``.

    :raises GaussianDomainError: for non-finite means or stds that are not finite and > 0.
    """
    size = actor.mean.size
    composed_mean, composed_std, prior_weight = np.empty(size), np.empty(size), np.empty(size)
    weight, kl, binding = per_state.KERNELS.fuse_state(
        _RULE_CODES[rule], np.asarray(actor.mean, dtype=np.float64),
        np.asarray(actor.std, dtype=np.float64), np.asarray(prior.mean, dtype=np.float64),
        np.asarray(prior.std, dtype=np.float64), float(max_weight), float(kl_budget), rtol,
        max_iter, float(max_prior_weight), composed_mean, composed_std, prior_weight)
    if weight != weight:
        check_gaussians(actor, prior)
    return (Composition(DiagGaussian(composed_mean, composed_std, actor.space), prior_weight),
            Selection(weight, kl, binding > 0.0))


def _fuse_as_batch(rule: Rule, actor: DiagGaussian, prior: DiagGaussian, max_weight: float,
                   kl_budget: float, max_prior_weight: float) -> tuple[Composition, Selection]:
    """``fuse_state`` without numba: ``fuse`` on a batch of one state, unpacked."""
    check_gaussians(actor, prior)
    with quiet_float_errors(np):
        composition, selection = fuse(rule, _batch_of_one(actor, prior), max_weight, kl_budget,
                                      max_prior_weight=max_prior_weight)
    composed = composition.gaussian
    return (Composition(DiagGaussian(composed.mean[0], composed.std[0], actor.space),
                        composition.prior_weight[0]),
            Selection(float(np.ravel(selection.weight)[0]), float(np.ravel(selection.kl)[0]),
                      bool(np.ravel(selection.binding)[0])))


def _select_additive(pair: GaussianPair, kl_budget: float, max_weight: float,
                     rtol: float) -> Selection:
    """Take the cap if feasible, else solve ``0.5 t**2 sum(z**2) = budget (1 - rtol / 2)``."""
    total = sum_last(pair.scaled_gap_sq)
    target = kl_budget * (1.0 - 0.5 * rtol)
    xp = array_namespace(total)
    with quiet_float_errors(xp):
        root = xp.nan_to_num(xp.sqrt(2.0 * target / total), nan=0.0, posinf=max_weight)
    feasible = 0.5 * max_weight * max_weight * total <= kl_budget
    weight = xp.where(feasible, xp.full_like(total, max_weight), xp.clip(root, None, max_weight))
    return Selection(weight, 0.5 * weight * weight * total, weight < max_weight)


def _next_weight(where: Callable[..., Any], weight: Weight, kl: Weight, slope: Weight,
                 target: float, lower: Weight, upper: Weight) -> Weight:
    """Return the Newton step if it stays strictly inside the bracket, else the midpoint."""
    newton = weight - (kl - target) / slope
    return where((newton > lower) & (newton < upper), newton, 0.5 * (lower + upper))


def _start(where: Callable[..., Any], rule: Rule, pair: GaussianPair, target: float,
           max_weight: float, kl_max: Weight, slope_max: Weight) -> Weight:
    """
    Return the larger of two first guesses that fall inside ``(0, max_weight)``.

    One is the small-weight expansion ``KL ~ 0.5 C t**2`` with ``C = sum(0.5 q**2 + z**2 r**2)``
    (exact while the KL is quadratic), the other a Newton step back from the cap (good where
    the KL is steep there). Both tend to undershoot where the KL grows like log t, hence the
    larger; an overshoot only costs a bisection. Without a usable guess, start at the midpoint.
    """
    half_slope_sq, gap_sq_ratio_sq = pair.slope_terms(rule)
    quadratic = (2.0 * target / sum_last(half_slope_sq + gap_sq_ratio_sq)) ** 0.5
    quadratic = where(quadratic == quadratic, quadratic, 0.0 * quadratic)
    from_cap = max_weight - (kl_max - target) / slope_max
    quadratic = where((quadratic > 0.0) & (quadratic < max_weight), quadratic, 0.0)
    from_cap = where((from_cap > 0.0) & (from_cap < max_weight), from_cap, 0.0)
    best = where(quadratic > from_cap, quadratic, from_cap)
    return where(best > 0.0, best, 0.5 * max_weight)


def _select_batch(rule: Rule, pair: GaussianPair, kl_budget: float, max_weight: float,
                  rtol: float, max_iter: int) -> Selection:
    """Run the safeguarded Newton of the compiled kernel vectorised over states, with masks."""
    xp = array_namespace(pair.mean_gap)
    where = xp.where
    kl_max = pair.kl_to_actor(rule, max_weight)
    feasible = kl_max <= kl_budget
    if bool(feasible.all()):
        return Selection(xp.full_like(kl_max, max_weight), kl_max, ~feasible)
    zeros = xp.zeros_like(kl_max)
    if kl_budget <= 0.0:
        return Selection(where(feasible, kl_max * 0.0 + max_weight, zeros),
                         where(feasible, kl_max, zeros), ~feasible)
    slope_max = pair.kl_slope(rule, max_weight)
    upper = xp.full_like(kl_max, max_weight)
    lower = where(feasible, upper, zeros)
    kl_lower = where(feasible, kl_max, zeros)
    done = feasible | xp.isnan(kl_max)
    weight = _start(where, rule, pair, kl_budget, max_weight, kl_max, slope_max)
    for _ in range(max_iter):
        kl = pair.kl_to_actor(rule, weight)
        below = ~done & (kl <= kl_budget)
        above = ~done & (kl > kl_budget)
        lower = where(below, weight, lower)
        kl_lower = where(below, kl, kl_lower)
        upper = where(above, weight, upper)
        done = done | ~(below | above) | (upper - lower <= numerics.SHORTEST * upper)
        slope = pair.kl_slope(rule, weight)
        margin = 0.5 * rtol * weight * slope
        margin = where((margin >= 0.0) & (margin < math.inf), margin, zeros)
        done = done | (below & (kl_budget - kl <= 2.0 * margin))
        if bool(done.all()):
            break
        target = xp.clip(kl_budget - margin, None, kl_budget * (1.0 - 2.0 * _EPS))
        slope = where(slope > 0.0, slope, zeros + math.inf)
        weight = _next_weight(where, weight, kl, slope, target, lower, upper)
    return Selection(lower, kl_lower, lower < max_weight)


def _check_prior_weight(rule: Rule, max_prior_weight: float) -> None:
    """Refuse a bound on the effective weight outside [0, 1], or one prior_only breaks."""
    if not 0.0 <= max_prior_weight <= 1.0:
        raise ValueError(f'max_prior_weight must lie in [0, 1], got {max_prior_weight}')
    if rule is Rule.PRIOR_ONLY and max_prior_weight < 1.0:
        raise ValueError(f'prior_only gives the prior weight 1, above max_prior_weight '
                         f'{max_prior_weight}')


def _bounded(rule: Rule, pair: GaussianPair, max_weight: float,
             max_prior_weight: float) -> tuple[GaussianPair, float]:
    """Return the pair with the prior's std floored and the weight capped (``numerics``)."""
    code = _RULE_CODES[rule]
    max_weight = numerics.weight_cap(code, max_weight, max_prior_weight)
    floor = numerics.prior_std_floor(code, max_weight, max_prior_weight, 1.0)
    if floor <= 0.0:
        return pair, max_weight
    xp = array_namespace(pair.mean_gap)
    prior = pair.prior
    std = xp.maximum(prior.std, pair.actor.std * floor)
    return GaussianPair(pair.actor, DiagGaussian(prior.mean, std, prior.space)), max_weight


def fuse(rule: Rule, pair: GaussianPair, max_weight: float, kl_budget: float = 0.0, *,
         max_prior_weight: float = 1.0) -> tuple[Composition, Selection]:
    """
    Compose by ``rule`` at the largest allowed weight, within ``kl_budget`` when it is > 0.

    Selection, then composition, on numpy arrays or torch tensors of one or many states (the
    Steerer's single numpy state takes ``fuse_state``). frozen and prior_only have no weight and
    ignore the budget.

    :param rule: the composition rule.
    :param pair: actor and prior Gaussians in pre-squash space.
    :param max_weight: the weight in force (alpha, or beta for kl; beta = inf is the prior
        alone), already capped by the envelope.
    :param kl_budget: nats; 0 disables the selector.
    :param max_prior_weight: bound on the effective prior weight of every dimension (the
        envelope's ``alpha_max``; 1: none); see the module docstring.
    :return: The composition and the selection (weight used, KL to the actor, binding flag).
    :raises ValueError: for a weight, budget or bound outside its range.
    """
    _check_prior_weight(rule, max_prior_weight)
    if rule in WEIGHTED_RULES:
        checked_weight(rule, max_weight)
        pair, max_weight = _bounded(rule, pair, max_weight, max_prior_weight)
    if rule in WEIGHTED_RULES and kl_budget > 0.0:
        selection = select_weight(rule, pair, kl_budget, max_weight)
    else:
        weight = max_weight if rule in WEIGHTED_RULES else 0.0
        kl = pair.kl_to_actor(rule, weight)
        selection = Selection(weight, float(kl) if pair.mean_gap.ndim == 1 else kl, False)
    return pair.compose(rule, selection.weight), selection


def fuse_state(rule: Rule, actor: DiagGaussian, prior: DiagGaussian, max_weight: float,
               kl_budget: float = 0.0, *,
               max_prior_weight: float = 1.0) -> tuple[Composition, Selection]:
    """
    Return ``fuse(rule, GaussianPair(actor, prior), max_weight, kl_budget)`` for one state.

    The per-tick path: one numpy state ``(d,)`` goes through the compiled kernel
    (``core.kernels``) instead of about 30 array operations; the result agrees with ``fuse`` to
    rounding. Without numba (``core.per_state``) it is ``fuse`` on a batch of one. Same
    arguments and errors as ``fuse``.

    :raises ValueError: if the Gaussians are not one numpy state each in one space, or for a
        weight, budget or bound outside its range.
    :raises GaussianDomainError: for non-finite means or stds that are not finite and > 0.
    """
    if actor.space is not prior.space:
        raise ValueError(f'actor lives in {actor.space.value} space but prior in '
                         f'{prior.space.value} space; map the prior first')
    mean = actor.mean
    if type(mean) is not np.ndarray or mean.ndim != 1 or mean.shape != prior.mean.shape:
        raise ValueError('fuse_state composes one numpy state of shape (d,) with a prior of the '
                         'same shape; use fuse for batches and torch')
    weighted = rule in WEIGHTED_RULES
    out_of_range = weighted and (not 0.0 <= max_weight <= RULE_TRAITS[rule].max_weight
                                 or (kl_budget > 0.0 and max_weight == math.inf))
    if (out_of_range or not 0.0 <= max_prior_weight <= 1.0
            or (rule is Rule.PRIOR_ONLY and max_prior_weight < 1.0)):
        # Out of range: let the array path's checks raise with their messages.
        _check_prior_weight(rule, max_prior_weight)
        checked_weight(rule, max_weight)
        _check(rule, kl_budget, max_weight)
    if not per_state.COMPILED:
        return _fuse_as_batch(rule, actor, prior, max_weight, kl_budget, max_prior_weight)
    return _run_kernel(rule, actor, prior, max_weight if weighted else 0.0,
                       kl_budget if weighted and kl_budget > 0.0 else -1.0, RTOL, MAX_ITER,
                       max_prior_weight)
