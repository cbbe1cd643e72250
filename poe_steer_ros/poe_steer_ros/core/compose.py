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
Closed-form composition of a frozen actor's Gaussian with a goal prior.

Per action dimension, with precisions ``lam = 1 / std**2`` (see docs/paper-notes.md):

* frozen: the actor, ``w = 0``.
* PoE(alpha), alpha in [0, 1]: ``pi ~ pi_A**(1 - alpha) * pi_G**alpha``,
  ``lam = (1 - alpha) lam_A + alpha lam_G`` and ``mu = mu_A + w (mu_G - mu_A)`` with the
  effective prior weight ``w = alpha lam_G / lam``: an uncertain prior pulls less.
* KL-regularised(beta), beta >= 0: ``q = argmax beta E_q[log pi_G] - KL(q || pi_A)``, so
  ``q ~ pi_A * pi_G**beta``, ``lam = lam_A + beta lam_G``, ``w = beta lam_G / lam``.
  With ``beta = alpha / (1 - alpha)`` its mean equals PoE's and
  ``Sigma_PoE = (1 + beta) Sigma_KL``.
* additive(alpha) (project's definition): ``mu = mu_A + alpha (mu_G - mu_A)``, ``w = alpha``,
  and the actor's std is kept. It ignores both precisions: a bad prior pulls by a fixed fraction.
* prior-only: the prior, ``w = 1`` (the alpha = 1 limit of PoE, and beta = inf of KL-reg:
  ``compose`` gives exactly the prior there).

Every public function refuses Gaussians with non-finite means or stds that are not finite and
positive, and weights outside their rule's range, with a ValueError that says which.

PoE and KL-reg are computed in ratio form: with ``r = lam_G / lam_A`` and a weight ``t``
(alpha or beta), ``lam = lam_A * s`` where ``s = 1 + t q`` and the slope ``q`` is ``r - 1``
(PoE) or ``r`` (KL-reg). Then ``w = t r / s``, ``std = std_A / sqrt(s)`` and
``KL(composed || actor) = 0.5 sum(log s - t q / s + w**2 z**2)`` with
``z**2 = (mu_G - mu_A)**2 lam_A`` (``log s - t q / s`` as a series in ``t q`` while it is
small keeps tiny KLs accurate to rounding, so the selector is accurate in weight and a
zero budget selects a zero weight). The KL-budget selector walks the same path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import math
import types
from typing import Any, ContextManager, Mapping, NamedTuple

import numpy as np

from poe_steer_ros.core import numerics
from poe_steer_ros.core.gaussian import (Array, array_namespace, check_gaussians, DiagGaussian,
                                         FullGaussian, sum_last)

Weight = Any
"""A rule's weight: one float, or one value per state of a batch (array of shape ``(N,)``)."""


class Rule(str, enum.Enum):
    """How the actor's and the prior's Gaussians are combined."""

    FROZEN = 'frozen'
    POE = 'poe'
    KL = 'kl'
    ADDITIVE = 'additive'
    PRIOR_ONLY = 'prior_only'


def alpha_to_beta(alpha: float) -> float:
    """
    Return the KL-regularisation weight whose mean equals PoE(alpha)'s: alpha / (1 - alpha).

    :raises ValueError: if ``alpha`` is outside [0, 1].
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must lie in [0, 1], got {alpha}')
    return math.inf if alpha == 1.0 else alpha / (1.0 - alpha)


def beta_to_alpha(beta: float) -> float:
    """
    Return the PoE weight whose mean equals KL-reg(beta)'s: beta / (1 + beta).

    :raises ValueError: if ``beta`` is negative or NaN.
    """
    if not beta >= 0.0:
        raise ValueError(f'beta must be >= 0, got {beta}')
    return 1.0 if beta == math.inf else beta / (1.0 + beta)


@dataclasses.dataclass(frozen=True, slots=True)
class RuleTraits:
    """
    What callers of a rule need to know besides its maths: its weight, range and units.

    Every rule's weight converts to and from alpha units (PoE's weight): the unit in which the
    Steerer ramps, the envelope caps (``alpha_max``) and telemetry reports it.
    """

    weight_name: str | None
    """The rule's weight, 'alpha' or 'beta' (``SteeringConfig``'s field), or None without one."""
    fixed_alpha: float = 0.0
    """The prior weight in alpha units of a rule without a weight (0 frozen, 1 prior_only)."""

    @property
    def weighted(self) -> bool:
        """Return whether the rule takes a weight (and so a KL budget)."""
        return self.weight_name is not None

    @property
    def max_weight(self) -> float:
        """Return the upper end of the weight's range [0, max_weight]."""
        return math.inf if self.weight_name == 'beta' else 1.0

    def to_alpha(self, weight: float) -> float:
        """Return the rule's ``weight`` in alpha units."""
        if not self.weighted:
            return self.fixed_alpha
        return beta_to_alpha(weight) if self.weight_name == 'beta' else weight

    def to_beta(self, weight: float) -> float:
        """Return the rule's ``weight`` in beta units (KL-reg's weight; inf for alpha 1)."""
        return weight if self.weight_name == 'beta' else alpha_to_beta(self.to_alpha(weight))

    def from_alpha(self, alpha: float) -> float:
        """Return the rule's own weight for a prior weight ``alpha`` in alpha units."""
        return alpha_to_beta(alpha) if self.weight_name == 'beta' else alpha


RULE_TRAITS: Mapping[Rule, RuleTraits] = types.MappingProxyType({
    Rule.FROZEN: RuleTraits(None, fixed_alpha=0.0),
    Rule.POE: RuleTraits('alpha'),
    Rule.KL: RuleTraits('beta'),
    Rule.ADDITIVE: RuleTraits('alpha'),
    Rule.PRIOR_ONLY: RuleTraits(None, fixed_alpha=1.0),
})
"""The traits of every rule: adding a rule adds a row here and its maths below."""
WEIGHTED_RULES = frozenset(rule for rule, traits in RULE_TRAITS.items() if traits.weighted)
"""Rules that take a weight (alpha for poe and additive, beta for kl)."""


def checked_weight(rule: Rule, weight: Weight) -> Weight:
    """
    Return ``weight`` (numbers as float) after rejecting values outside the rule's range.

    alpha lies in [0, 1]; beta in [0, inf] (inf is the prior alone). NaN is refused.
    """
    traits = RULE_TRAITS[rule]
    upper = traits.max_weight
    if isinstance(weight, bool):
        inside = False
    elif isinstance(weight, (int, float)):
        weight = float(weight)
        inside = 0.0 <= weight <= upper
    else:
        inside = bool(((weight >= 0.0) & (weight <= upper)).all())
    if not inside:
        raise ValueError(f'{traits.weight_name} for rule {rule.value} must lie in [0, {upper}], '
                         f'got {weight}')
    return weight


def quiet_float_errors(xp: Any) -> ContextManager[Any]:
    """Silence numpy's divide/overflow warnings where NaN and inf are handled explicitly."""
    if xp is np:
        return np.errstate(divide='ignore', invalid='ignore', over='ignore')
    return contextlib.nullcontext()


def _column(weight: Weight) -> Weight:
    """Give a per-state weight a trailing axis so it broadcasts over action dimensions."""
    return weight if isinstance(weight, float) else weight[..., None]


class _Path(NamedTuple):
    """Quantities of PoE or KL-reg at one weight ``t`` (see the module docstring)."""

    rule: Rule
    weight: Weight
    step: Array
    """``t q``."""
    scale: Array
    """``s = 1 + t q = lam / lam_A``."""
    prior_weight: Array
    """``w = t r / s``."""


@dataclasses.dataclass(frozen=True, slots=True)
class Composition:
    """A composed Gaussian and the effective prior weight ``w`` per dimension."""

    gaussian: DiagGaussian
    prior_weight: Array
    """``w`` in ``mu = mu_A + w (mu_G - mu_A)``: 0 frozen, alpha additive, 1 prior-only."""


class GaussianPair:
    """
    An actor Gaussian and a prior Gaussian in one space, plus the ratios every rule shares.

    Build one pair per state (or batch of states), then compose, measure KL and select weights
    on it without recomputing precisions. The per-tick control loop runs through here, so it is
    a plain slotted class that remembers the last path it evaluated; treat it as read-only.
    """

    __slots__ = ('actor', 'prior', 'precision_ratio', 'mean_gap', 'scaled_gap_sq', '_xp',
                 '_last_path', '_slope_terms')

    def __init__(self, actor: DiagGaussian, prior: DiagGaussian) -> None:
        """
        Pair ``actor`` and ``prior`` and precompute ``r``, ``mu_G - mu_A`` and ``z**2``.

        :raises ValueError: if the two live in different spaces or have different shapes, or
            for non-finite means or stds that are not finite and > 0.
        """
        if actor.space is not prior.space:
            raise ValueError(f'actor lives in {actor.space.value} space but prior in '
                             f'{prior.space.value} space; map the prior first')
        if actor.mean.shape != prior.mean.shape:
            raise ValueError(f'actor has shape {tuple(actor.mean.shape)} but prior '
                             f'{tuple(prior.mean.shape)}')
        check_gaussians(actor, prior)
        self.actor = actor
        self.prior = prior
        actor_var = actor.std * actor.std
        gap = prior.mean - actor.mean
        xp = array_namespace(gap)
        with quiet_float_errors(xp):
            ratio = actor_var / (prior.std * prior.std)
        self.precision_ratio: Array = xp.clip(ratio, None, numerics.RATIO_MAX)
        """``r = lam_G / lam_A`` per dimension (at most ``numerics.RATIO_MAX``)."""
        self.mean_gap: Array = gap
        """``mu_G - mu_A`` per dimension."""
        self.scaled_gap_sq: Array = gap * gap / actor_var
        """``z**2 = (mu_G - mu_A)**2 lam_A`` per dimension."""
        self._xp = xp
        self._last_path: _Path | None = None
        self._slope_terms: dict[Rule, tuple[Array, Array]] = {}

    def _path(self, rule: Rule, weight: Weight) -> _Path:
        """Evaluate PoE or KL-reg at ``weight``; repeated calls at one weight are free."""
        last = self._last_path
        if last is not None and last.rule is rule and last.weight is weight:
            return last
        t = _column(weight)
        t_ratio = t * self.precision_ratio
        if rule is Rule.POE:
            # s = (1 - t) + t r stays exact where the prior dominates (t -> 1 with r << 1),
            # where 1 + t q would cancel; t q stays exact where s is near 1.
            step, scale = t_ratio - t, t_ratio + (1.0 - t)
        else:
            step, scale = t_ratio, t_ratio + 1.0
        path = _Path(rule, weight, step, scale, t_ratio / scale)
        self._last_path = path
        return path

    def compose(self, rule: Rule, weight: Weight = 0.0) -> Composition:
        """
        Compose by ``rule`` with ``weight`` (alpha for poe/additive, beta for kl).

        :raises ValueError: if ``weight`` is outside the rule's range.
        """
        actor = self.actor
        xp = self._xp
        if rule is Rule.FROZEN:
            return Composition(actor, xp.zeros_like(actor.mean))
        if rule is Rule.PRIOR_ONLY:
            return Composition(self.prior, xp.ones_like(actor.mean))
        weight = checked_weight(rule, weight)
        if rule is Rule.ADDITIVE:
            t = _column(weight)
            shifted = DiagGaussian(actor.mean + t * self.mean_gap, actor.std, actor.space)
            return Composition(shifted, xp.zeros_like(actor.mean) + t)
        if rule is Rule.KL and isinstance(weight, float) and weight == math.inf:
            return self.compose(Rule.PRIOR_ONLY)
        with quiet_float_errors(xp):
            path = self._path(rule, weight)
        composed = DiagGaussian(actor.mean + path.prior_weight * self.mean_gap,
                                actor.std / xp.sqrt(path.scale), actor.space)
        if rule is Rule.KL and not isinstance(weight, float):
            # beta = inf per state: the prior alone (inf / inf would be NaN).
            alone = _column(weight) == math.inf
            composed = DiagGaussian(xp.where(alone, self.prior.mean, composed.mean),
                                    xp.where(alone, self.prior.std, composed.std), actor.space)
            return Composition(composed, xp.where(alone, 1.0, path.prior_weight))
        return Composition(composed, path.prior_weight)

    def kl_to_actor(self, rule: Rule, weight: Weight = 0.0) -> Weight:
        """Return KL(composed || actor) in nats, one value per state (a float for one state)."""
        gap_sq = self.scaled_gap_sq
        if rule is Rule.FROZEN:
            return 0.0 if gap_sq.ndim == 1 else self._xp.zeros_like(gap_sq[..., 0])
        if rule is Rule.PRIOR_ONLY:
            ratio = self.precision_ratio
            return 0.5 * sum_last(1.0 / ratio - 1.0 + self._xp.log(ratio) + gap_sq)
        if rule is Rule.ADDITIVE:
            return 0.5 * weight * weight * sum_last(gap_sq)
        if rule is Rule.KL and isinstance(weight, float) and weight == math.inf:
            return self.kl_to_actor(Rule.PRIOR_ONLY)
        return self._path_kl(self._path(rule, weight))

    def _path_kl(self, path: _Path) -> Weight:
        """
        Return ``0.5 sum(log s - t q / s + w**2 z**2)``.

        ``log s`` is ``log1p(t q)``, accurate for tiny KLs. PoE's ``s >= 1 - t`` can approach 0
        once ``t > 0.5`` (where ``t q -> -1`` has lost its digits); there ``log s`` is taken
        directly.
        """
        xp = self._xp
        step, scale, prior_weight = path.step, path.scale, path.prior_weight
        weight = path.weight
        if path.rule is Rule.POE and not (isinstance(weight, float) and weight <= 0.5):
            accurate = scale > 0.5
            log_scale = xp.where(accurate, xp.log1p(step * accurate), xp.log(scale))
        else:
            log_scale = xp.log1p(step)
        # log s - t q / s cancels to about (t q)**2 / 2 for small t q: a series there.
        small = xp.abs(step) < numerics.SERIES_STEP
        series = step * 0.0
        for coefficient in numerics.SERIES:
            series = series * step + coefficient
        volume = xp.where(small, series * step * step, log_scale - step / scale)
        return 0.5 * sum_last(volume + prior_weight * prior_weight * self.scaled_gap_sq)

    def kl_slope(self, rule: Rule, weight: Weight) -> Weight:
        """
        Return the derivative of KL(composed || actor) with respect to the weight.

        Along PoE and KL-reg paths it is ``t sum(0.5 q**2 / s**2 + z**2 r**2 / s**3)``, t times a
        variance, so the KL never decreases with t; additive's is ``t sum(z**2)``.
        """
        if rule is Rule.ADDITIVE:
            return weight * sum_last(self.scaled_gap_sq)
        half_slope_sq, gap_sq_ratio_sq = self.slope_terms(rule)
        inverse = 1.0 / self._path(rule, weight).scale
        return weight * sum_last(inverse * inverse * (half_slope_sq + gap_sq_ratio_sq * inverse))

    def slope_terms(self, rule: Rule) -> tuple[Array, Array]:
        """Return ``0.5 q**2`` and ``z**2 r**2``, the weight-free parts of the KL's slope."""
        terms = self._slope_terms.get(rule)
        if terms is None:
            ratio = self.precision_ratio
            slope = ratio - 1.0 if rule is Rule.POE else ratio
            terms = (0.5 * slope * slope, self.scaled_gap_sq * ratio * ratio)
            self._slope_terms[rule] = terms
        return terms


def compose(rule: Rule, actor: DiagGaussian, prior: DiagGaussian,
            weight: Weight = 0.0) -> Composition:
    """
    Compose ``actor`` and ``prior`` (same space) by ``rule``.

    :param rule: the composition rule.
    :param actor: the frozen actor's Gaussian, ``(d,)`` or ``(N, d)``.
    :param prior: the goal prior's Gaussian in the same space and shape.
    :param weight: alpha in [0, 1] for poe and additive, beta in [0, inf] for kl (inf: the
            prior alone); ignored by frozen and prior_only. A float or one value per state.
    :return: The composed Gaussian and the effective prior weight per dimension.
    :raises ValueError: for a weight outside the rule's range, non-finite means, or stds that
        are not finite and > 0.
    """
    return GaussianPair(actor, prior).compose(rule, weight)


def compose_full_poe(actor: FullGaussian, prior: FullGaussian, alpha: float) -> FullGaussian:
    """
    Return PoE(alpha) of two full-covariance Gaussians.

    ``Lam = (1 - alpha) Lam_A + alpha Lam_G`` and
    ``mu = Lam^-1 ((1 - alpha) Lam_A mu_A + alpha Lam_G mu_G)``; with diagonal inputs this is
    the diagonal rule.

    :raises ValueError: if ``alpha`` is outside [0, 1] or the spaces differ.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must lie in [0, 1], got {alpha}')
    if actor.space is not prior.space:
        raise ValueError(f'actor lives in {actor.space.value} space but prior in '
                         f'{prior.space.value} space')
    xp = array_namespace(actor.cov)
    for gaussian in (actor, prior):
        if not (bool(xp.isfinite(gaussian.mean).all()) and bool(xp.isfinite(gaussian.cov).all())
                and bool((xp.linalg.eigvalsh(gaussian.cov) > 0.0).all())):
            raise ValueError('full Gaussians need finite means and positive definite '
                             'covariances')
    actor_part = (1.0 - alpha) * actor.precision
    prior_part = alpha * prior.precision
    precision = actor_part + prior_part
    info = (actor_part @ actor.mean[..., None] + prior_part @ prior.mean[..., None])[..., 0]
    mean = xp.linalg.solve(precision, info[..., None])[..., 0]
    return FullGaussian(mean, xp.linalg.inv(precision), actor.space)
