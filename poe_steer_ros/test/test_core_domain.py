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

"""The core API's domain: refused inputs, beta = inf, selector accuracy, the effective weight."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
from poe_steer_ros.core.compose import beta_to_alpha, compose, GaussianPair, Rule
from poe_steer_ros.core.gaussian import (ActionScale, DiagGaussian, kl_divergence,
                                         to_pre_squash)
from poe_steer_ros.core.interfaces import OutputKind, Space
from poe_steer_ros.core.selector import fuse, fuse_state, select_weight
import pytest

BAD_STDS = [math.nan, math.inf, -math.inf, 0.0, -1.0, -1e-300]


@st.composite
def extreme_states(draw, dim=None):
    """One actor and one prior whose stds differ by up to 1e8 either way, any means."""
    dim = dim or draw(st.integers(1, 6))
    means = st.floats(-5.0, 5.0)
    actor = DiagGaussian(draw(hnp.arrays(np.float64, dim, elements=means)),
                         10.0 ** draw(hnp.arrays(np.float64, dim, elements=st.floats(-4, 4))))
    prior = DiagGaussian(draw(hnp.arrays(np.float64, dim, elements=means)),
                         actor.std * 10.0 ** draw(hnp.arrays(np.float64, dim,
                                                             elements=st.floats(-8, 8))))
    return actor, prior


@pytest.mark.parametrize('bad', BAD_STDS)
def test_every_public_function_refuses_stds_outside_their_domain(bad):
    good = DiagGaussian(np.zeros(2), np.ones(2))
    wrong = DiagGaussian(np.zeros(2), np.array([1.0, bad]))
    calls = [lambda: compose(Rule.POE, good, wrong, 0.5),
             lambda: compose(Rule.POE, wrong, good, 0.5),
             lambda: fuse_state(Rule.KL, good, wrong, 1.0),
             lambda: fuse_state(Rule.FROZEN, wrong, good, 0.0),
             lambda: fuse(Rule.POE, GaussianPair(good, wrong), 0.5),
             lambda: kl_divergence(good, wrong),
             lambda: to_pre_squash(DiagGaussian(np.zeros(2), np.array([1.0, bad]), Space.COMMAND),
                                   ActionScale([-1.0, -1.0], [1.0, 1.0]),
                                   OutputKind.TANH_GAUSSIAN)]
    for call in calls:
        with pytest.raises(ValueError, match='std'):
            call()


@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
def test_non_finite_means_are_refused(bad):
    good = DiagGaussian(np.zeros(2), np.ones(2))
    wrong = DiagGaussian(np.array([0.0, bad]), np.ones(2))
    for call in (lambda: compose(Rule.KL, good, wrong, 1.0),
                 lambda: fuse_state(Rule.POE, wrong, good, 0.5)):
        with pytest.raises(ValueError, match='means must be finite'):
            call()


@pytest.mark.parametrize('rule,weight', [(Rule.POE, -0.1), (Rule.POE, 1.5), (Rule.POE, math.nan),
                                         (Rule.ADDITIVE, 2.0), (Rule.KL, -1.0),
                                         (Rule.KL, math.nan)])
def test_weights_outside_their_domain_are_refused(rule, weight):
    good = DiagGaussian(np.zeros(2), np.ones(2))
    for call in (lambda: compose(rule, good, good, weight),
                 lambda: fuse_state(rule, good, good, weight)):
        with pytest.raises(ValueError, match='must lie in'):
            call()


@settings(max_examples=100)
@given(extreme_states())
def test_alpha_one_is_prior_only_on_every_path(pair):
    actor, prior = pair
    for composition in (compose(Rule.KL, actor, prior, math.inf).gaussian,
                        compose(Rule.POE, actor, prior, 1.0).gaussian,
                        fuse_state(Rule.KL, actor, prior, math.inf)[0].gaussian,
                        fuse(Rule.KL, GaussianPair(actor, prior), math.inf)[0].gaussian):
        np.testing.assert_allclose(composition.mean, prior.mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(composition.std, prior.std, rtol=1e-7)
    batch = GaussianPair(DiagGaussian(actor.mean[None], actor.std[None]),
                         DiagGaussian(prior.mean[None], prior.std[None]))
    composed = batch.compose(Rule.KL, np.array([math.inf]))
    np.testing.assert_array_equal(composed.gaussian.mean[0], prior.mean)
    np.testing.assert_array_equal(composed.prior_weight[0], 1.0)


def _largest_feasible_alpha(pair, rule, budget, cap):
    """Return the reference: bisection in alpha units on the computed KL (monotone)."""
    to_weight = (lambda alpha: alpha / (1.0 - alpha)) if rule is Rule.KL else (lambda a: a)
    high = beta_to_alpha(cap) if rule is Rule.KL else cap
    low = 0.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if pair.kl_to_actor(rule, min(to_weight(middle), cap)) <= budget:
            low = middle
        else:
            high = middle
    return low


@settings(max_examples=300, deadline=None)
@given(extreme_states(), st.sampled_from([Rule.POE, Rule.KL]), st.floats(1e-6, 0.99),
       st.floats(-3.0, 12.0), st.booleans())
def test_selector_is_accurate_in_weight_for_any_cap_and_std_ratio(
        pair, rule, fraction, log_cap, single):
    cap = 10.0 ** log_cap if rule is Rule.KL else min(10.0 ** log_cap, 1.0)
    gaussian_pair = GaussianPair(*pair)
    kl_at_cap = gaussian_pair.kl_to_actor(rule, cap)
    # Subnormal KLs (below the smallest normal double) carry too few bits to bisect to 1e-9.
    if not np.finfo(np.float64).tiny < kl_at_cap < 1e12:
        return
    budget = fraction * kl_at_cap
    if single:
        selection = fuse_state(rule, *pair, cap, budget)[1]
    else:
        selection = select_weight(rule, GaussianPair(
            *(DiagGaussian(g.mean[None], g.std[None]) for g in pair)), budget, cap)
        selection = type(selection)(float(selection.weight[0]), float(selection.kl[0]),
                                    bool(selection.binding[0]))
    assert gaussian_pair.kl_to_actor(rule, selection.weight) <= budget
    as_alpha = beta_to_alpha(selection.weight) if rule is Rule.KL else selection.weight
    assert as_alpha == pytest.approx(_largest_feasible_alpha(gaussian_pair, rule, budget, cap),
                                     abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(extreme_states(), st.sampled_from([Rule.POE, Rule.KL, Rule.ADDITIVE]),
       st.floats(0.0, 1.0), st.floats(0.0, 0.999), st.floats(-320.0, 0.0),
       st.sampled_from([0.0, 0.5, 10.0]))
def test_alpha_max_bounds_the_effective_weight_of_every_dimension(pair, rule, alpha, alpha_max,
                                                                  log_prior_std, budget):
    actor, prior = pair
    # Down to the smallest doubles: a GoalPrior with std 1e-300 once gave every dimension w = 1.
    prior = DiagGaussian(prior.mean, np.maximum(prior.std * 10.0 ** log_prior_std, 5e-324))
    weight = alpha / (1.0 - alpha) if rule is Rule.KL and alpha < 1.0 else alpha
    if rule is Rule.KL and alpha == 1.0:
        weight = math.inf
    if budget and weight == math.inf:
        weight = 1e12
    for composition, _ in (
            fuse_state(rule, actor, prior, weight, budget, max_prior_weight=alpha_max),
            fuse(rule, GaussianPair(actor, prior), weight, budget, max_prior_weight=alpha_max)):
        assert np.all(composition.prior_weight <= alpha_max)
        assert np.all(np.isfinite(composition.gaussian.mean))
        assert np.all(composition.gaussian.std > 0.0)


def test_the_effective_weight_bound_is_reached_by_a_sharp_prior():
    actor = DiagGaussian(np.zeros(2), np.ones(2))
    prior = DiagGaussian(np.ones(2), np.full(2, 1e-300))
    composition, _ = fuse_state(Rule.POE, actor, prior, 0.01, max_prior_weight=0.3)
    np.testing.assert_allclose(composition.prior_weight, 0.3, rtol=1e-12)
    unbounded, _ = fuse_state(Rule.POE, actor, prior, 0.01)
    np.testing.assert_array_equal(unbounded.prior_weight, 1.0)


def test_action_bounds_must_be_finite_and_of_sane_magnitude():
    for low, high in (([-1e308], [1e308]), ([-2e6], [1.0]), ([0.0], [math.inf])):
        with pytest.raises(ValueError, match='action bounds'):
            ActionScale(low, high)
    scale = ActionScale([-1e6], [1e6])
    assert np.isfinite(scale.scale).all() and np.isfinite(scale.offset).all()
