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

"""Composition rules: limits, the PoE/KL-reg identity, densities, anchoring, numpy vs torch."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
from poe_steer_ros.core.compose import (alpha_to_beta, beta_to_alpha, checked_weight, compose,
                                        compose_full_poe, GaussianPair, Rule, RULE_TRAITS,
                                        WEIGHTED_RULES)
from poe_steer_ros.core.gaussian import DiagGaussian, FullGaussian, kl_divergence
from poe_steer_ros.core.interfaces import Space
import pytest
import torch

MEANS = st.floats(-5.0, 5.0)
LOG_STDS = st.floats(-3.0, 3.0)


@st.composite
def gaussian_pairs(draw, batch: bool = False):
    """Draw an actor and a prior Gaussian of one shape, (d,) or (N, d)."""
    dim = draw(st.integers(1, 6))
    shape = (draw(st.integers(1, 4)), dim) if batch else (dim,)
    actor = DiagGaussian(draw(hnp.arrays(np.float64, shape, elements=MEANS)),
                         np.exp(draw(hnp.arrays(np.float64, shape, elements=LOG_STDS))))
    prior = DiagGaussian(draw(hnp.arrays(np.float64, shape, elements=MEANS)),
                         np.exp(draw(hnp.arrays(np.float64, shape, elements=LOG_STDS))))
    return actor, prior


def _to_torch(gaussian: DiagGaussian) -> DiagGaussian:
    return DiagGaussian(torch.from_numpy(gaussian.mean), torch.from_numpy(gaussian.std),
                        gaussian.space)


@given(gaussian_pairs())
def test_weight_zero_reproduces_the_actor_exactly(pair):
    actor, prior = pair
    for rule in (Rule.POE, Rule.KL, Rule.ADDITIVE, Rule.FROZEN):
        composition = compose(rule, actor, prior, 0.0)
        np.testing.assert_array_equal(composition.gaussian.mean, actor.mean)
        np.testing.assert_array_equal(composition.gaussian.std, actor.std)
        np.testing.assert_array_equal(composition.prior_weight, 0.0)


@given(gaussian_pairs())
def test_alpha_one_reproduces_the_prior(pair):
    actor, prior = pair
    for rule in (Rule.POE, Rule.PRIOR_ONLY):
        composed = compose(rule, actor, prior, 1.0).gaussian
        np.testing.assert_allclose(composed.mean, prior.mean, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(composed.std, prior.std, rtol=1e-12)
    additive = compose(Rule.ADDITIVE, actor, prior, 1.0).gaussian
    np.testing.assert_allclose(additive.mean, prior.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(additive.std, actor.std)


@given(st.floats(-20.0, 20.0), st.floats(-20.0, 20.0))
def test_poe_at_alpha_one_stays_exact_for_extreme_std_ratios(actor_log_std, prior_log_std):
    """The scale (1 - alpha) + alpha r must not cancel when the prior is far wider."""
    actor = DiagGaussian(np.array([0.5]), np.exp(np.array([actor_log_std])))
    prior = DiagGaussian(np.array([-1.0]), np.exp(np.array([prior_log_std])))
    pair = GaussianPair(actor, prior)
    composed = pair.compose(Rule.POE, 1.0).gaussian
    np.testing.assert_allclose(composed.mean, prior.mean, rtol=1e-12)
    np.testing.assert_allclose(composed.std, prior.std, rtol=1e-12)
    assert pair.kl_to_actor(Rule.POE, 1.0) == pytest.approx(float(kl_divergence(prior, actor)),
                                                            rel=1e-9)


@given(gaussian_pairs(), st.floats(0.0, 0.999))
def test_poe_and_kl_means_agree_and_covariances_differ_by_one_plus_beta(pair, alpha):
    actor, prior = pair
    beta = alpha_to_beta(alpha)
    poe = compose(Rule.POE, actor, prior, alpha)
    kl = compose(Rule.KL, actor, prior, beta)
    np.testing.assert_allclose(poe.gaussian.mean, kl.gaussian.mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(poe.gaussian.var, (1.0 + beta) * kl.gaussian.var, rtol=1e-9)
    np.testing.assert_allclose(poe.prior_weight, kl.prior_weight, rtol=1e-9, atol=1e-12)


@given(st.floats(0.0, 1.0))
def test_alpha_beta_conversion_round_trips(alpha):
    assert beta_to_alpha(alpha_to_beta(alpha)) == pytest.approx(alpha, rel=1e-12, abs=1e-15)


def test_conversion_rejects_out_of_range_weights():
    with pytest.raises(ValueError, match='alpha'):
        alpha_to_beta(1.5)
    with pytest.raises(ValueError, match='beta'):
        beta_to_alpha(-0.1)
    actor = DiagGaussian(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match='alpha for rule poe'):
        compose(Rule.POE, actor, actor, 1.2)
    with pytest.raises(ValueError, match='beta for rule kl'):
        compose(Rule.KL, actor, actor, -1.0)


@given(gaussian_pairs(), st.floats(0.0, 1.0))
def test_poe_matches_textbook_precision_weighting(pair, alpha):
    actor, prior = pair
    precision_a, precision_g = 1.0 / actor.var, 1.0 / prior.var
    precision = (1.0 - alpha) * precision_a + alpha * precision_g
    mean = ((1.0 - alpha) * precision_a * actor.mean + alpha * precision_g * prior.mean)
    composition = compose(Rule.POE, actor, prior, alpha)
    np.testing.assert_allclose(composition.gaussian.mean, mean / precision, rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(composition.gaussian.var, 1.0 / precision, rtol=1e-9)
    np.testing.assert_allclose(composition.prior_weight, alpha * precision_g / precision,
                               rtol=1e-9, atol=1e-15)


@given(gaussian_pairs(), st.floats(0.0, 1.0), st.sampled_from([Rule.POE, Rule.ADDITIVE]))
def test_kl_to_actor_matches_the_generic_formula(pair, alpha, rule):
    actor, prior = pair
    pair_ = GaussianPair(actor, prior)
    expected = kl_divergence(pair_.compose(rule, alpha).gaussian, actor)
    assert pair_.kl_to_actor(rule, alpha) == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert GaussianPair(actor, prior).kl_to_actor(Rule.PRIOR_ONLY) == pytest.approx(
        kl_divergence(prior, actor), rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(gaussian_pairs(), st.floats(0.05, 0.95), st.sampled_from([Rule.POE, Rule.KL]))
def test_monte_carlo_composed_density_is_the_normalised_product(pair, alpha, rule):
    """Importance-weight actor samples by the product and compare moments with closed form."""
    actor, prior = pair
    weight = alpha if rule is Rule.POE else alpha_to_beta(alpha)
    composed = compose(rule, actor, prior, weight).gaussian
    rng = np.random.default_rng(0)
    # Propose off-centre and wider than the closed form: importance weights then estimate the
    # product's moments, which match the closed form only if it is right.
    proposal = DiagGaussian(composed.mean + 0.3 * composed.std, 1.5 * composed.std)
    samples = proposal.mean + proposal.std * rng.standard_normal((100_000, actor.dim))
    exponent_a = (1.0 - alpha) if rule is Rule.POE else 1.0
    log_product = exponent_a * actor.log_prob(samples) + weight * prior.log_prob(samples)
    log_weights = log_product - proposal.log_prob(samples)
    weights = np.exp(log_weights - log_weights.max())
    weights /= weights.sum()
    mean = weights @ samples
    var = weights @ (samples - mean) ** 2
    np.testing.assert_array_less(np.abs(mean - composed.mean), 0.03 * composed.std)
    np.testing.assert_allclose(np.sqrt(var), composed.std, rtol=0.03)
    # The log density differs from the log product by one constant (normalisation).
    difference = composed.log_prob(samples[:100]) - log_product[:100]
    np.testing.assert_allclose(difference, difference[0], atol=1e-6)


@given(st.floats(0.05, 0.95), st.floats(1.01, 100.0), st.floats(-10.0, 10.0).filter(
    lambda gap: abs(gap) > 0.1))
def test_poe_anchors_against_a_wrong_prior_with_honest_inflated_variance(alpha, inflation, gap):
    actor = DiagGaussian(np.array([0.3]), np.array([0.5]))
    prior = DiagGaussian(actor.mean + gap, actor.std * inflation)
    poe_shift = abs(compose(Rule.POE, actor, prior, alpha).gaussian.mean - actor.mean)
    additive_shift = abs(compose(Rule.ADDITIVE, actor, prior, alpha).gaussian.mean - actor.mean)
    assert poe_shift[0] < additive_shift[0]


@given(st.floats(0.05, 0.95), st.floats(1.01, 100.0), st.floats(-10.0, 10.0).filter(
    lambda gap: abs(gap) > 0.1))
def test_caveat_an_over_confident_wrong_prior_pulls_poe_harder_than_additive(alpha, shrink,
                                                                             gap):
    """Precision weighting only protects against priors whose variance is honest."""
    actor = DiagGaussian(np.array([0.3]), np.array([0.5]))
    prior = DiagGaussian(actor.mean + gap, actor.std / shrink)
    poe_shift = abs(compose(Rule.POE, actor, prior, alpha).gaussian.mean - actor.mean)
    additive_shift = abs(compose(Rule.ADDITIVE, actor, prior, alpha).gaussian.mean - actor.mean)
    assert poe_shift[0] > additive_shift[0]


@settings(max_examples=40)
@given(gaussian_pairs(batch=True), st.floats(0.0, 1.0),
       st.sampled_from([Rule.FROZEN, Rule.POE, Rule.KL, Rule.ADDITIVE, Rule.PRIOR_ONLY]))
def test_numpy_and_torch_agree_batched(pair, alpha, rule):
    actor, prior = pair
    weight = alpha_to_beta(min(alpha, 0.99)) if rule is Rule.KL else alpha
    numpy_pair = GaussianPair(actor, prior)
    torch_pair = GaussianPair(_to_torch(actor), _to_torch(prior))
    numpy_result = numpy_pair.compose(rule, weight)
    torch_result = torch_pair.compose(rule, weight)
    np.testing.assert_allclose(torch_result.gaussian.mean.numpy(), numpy_result.gaussian.mean,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(torch_result.gaussian.std.numpy(), numpy_result.gaussian.std,
                               rtol=1e-12)
    np.testing.assert_allclose(torch_result.prior_weight.numpy(), numpy_result.prior_weight,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.asarray(torch_pair.kl_to_actor(rule, weight)),
                               numpy_pair.kl_to_actor(rule, weight), rtol=1e-9, atol=1e-12)


@given(gaussian_pairs(batch=True))
def test_per_state_weights_broadcast_over_dimensions(pair):
    actor, prior = pair
    alphas = np.linspace(0.1, 0.9, actor.mean.shape[0])
    batched = compose(Rule.POE, actor, prior, alphas).gaussian
    for row, alpha in enumerate(alphas):
        single = compose(Rule.POE, DiagGaussian(actor.mean[row], actor.std[row]),
                         DiagGaussian(prior.mean[row], prior.std[row]), float(alpha)).gaussian
        np.testing.assert_allclose(batched.mean[row], single.mean, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(batched.std[row], single.std, rtol=1e-12)


@given(gaussian_pairs(), st.floats(0.0, 1.0))
def test_full_covariance_reduces_to_diagonal(pair, alpha):
    actor, prior = pair
    full = compose_full_poe(FullGaussian.from_diag(actor), FullGaussian.from_diag(prior), alpha)
    diagonal = compose(Rule.POE, actor, prior, alpha).gaussian
    np.testing.assert_allclose(full.mean, diagonal.mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(full.cov, np.diag(diagonal.var), rtol=1e-9, atol=1e-12)


def _random_full(rng: np.random.Generator, dim: int, batch: tuple = ()) -> FullGaussian:
    factor = rng.normal(size=batch + (dim, dim))
    cov = factor @ np.swapaxes(factor, -1, -2) + 0.5 * np.eye(dim)
    return FullGaussian(rng.normal(size=batch + (dim,)), cov)


def test_full_covariance_poe_is_the_normalised_product():
    rng = np.random.default_rng(1)
    actor, prior = _random_full(rng, 3), _random_full(rng, 3)
    alpha = 0.3
    composed = compose_full_poe(actor, prior, alpha)
    points = rng.normal(size=(50, 3)) * 2.0
    log_product = (1.0 - alpha) * actor.log_prob(points) + alpha * prior.log_prob(points)
    difference = composed.log_prob(points) - log_product
    np.testing.assert_allclose(difference, difference[0], atol=1e-9)
    # Normalised: the composed density integrates to one (Monte Carlo over its own samples
    # is trivial, so check via a proposal).
    proposal = DiagGaussian(composed.mean, 3.0 * np.sqrt(np.diag(composed.cov)))
    samples = proposal.mean + proposal.std * rng.standard_normal((200_000, 3))
    integral = np.mean(np.exp(composed.log_prob(samples) - proposal.log_prob(samples)))
    assert integral == pytest.approx(1.0, rel=0.02)


def test_full_covariance_numpy_and_torch_agree():
    rng = np.random.default_rng(2)
    actor, prior = _random_full(rng, 4, (5,)), _random_full(rng, 4, (5,))
    numpy_result = compose_full_poe(actor, prior, 0.6)
    torch_result = compose_full_poe(
        FullGaussian(torch.from_numpy(actor.mean), torch.from_numpy(actor.cov)),
        FullGaussian(torch.from_numpy(prior.mean), torch.from_numpy(prior.cov)), 0.6)
    np.testing.assert_allclose(torch_result.mean.numpy(), numpy_result.mean, rtol=1e-9)
    np.testing.assert_allclose(torch_result.cov.numpy(), numpy_result.cov, rtol=1e-9,
                               atol=1e-12)


def test_pair_rejects_mismatched_inputs():
    actor = DiagGaussian(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match='map the prior first'):
        GaussianPair(actor, DiagGaussian(np.zeros(2), np.ones(2), Space.COMMAND))
    with pytest.raises(ValueError, match='shape'):
        GaussianPair(actor, DiagGaussian(np.zeros(3), np.ones(3)))
    with pytest.raises(ValueError, match='alpha'):
        compose_full_poe(FullGaussian.from_diag(actor), FullGaussian.from_diag(actor),
                         math.nan)


def test_every_rule_has_traits_and_weighted_rules_follow_them():
    assert set(RULE_TRAITS) == set(Rule)
    assert WEIGHTED_RULES == {Rule.POE, Rule.KL, Rule.ADDITIVE}
    assert RULE_TRAITS[Rule.FROZEN].to_alpha(0.7) == 0.0
    assert RULE_TRAITS[Rule.PRIOR_ONLY].to_beta(0.0) == math.inf


@pytest.mark.parametrize('alpha', [0.0, 0.25, 0.5, 0.9])
def test_traits_convert_weights_to_the_same_alpha_for_matching_poe_and_kl(alpha):
    poe, kl = RULE_TRAITS[Rule.POE], RULE_TRAITS[Rule.KL]
    beta = kl.from_alpha(alpha)
    assert beta == alpha_to_beta(alpha) and poe.from_alpha(alpha) == alpha
    assert kl.to_alpha(beta) == pytest.approx(poe.to_alpha(alpha), rel=1e-15)
    assert kl.to_beta(beta) == beta and poe.to_beta(alpha) == beta


def test_the_weight_range_comes_from_the_traits():
    assert checked_weight(Rule.KL, 1e6) == 1e6
    with pytest.raises(ValueError, match='alpha for rule additive must lie in'):
        checked_weight(Rule.ADDITIVE, 1.5)
