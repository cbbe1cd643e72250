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

"""KL-budget selector: monotone KL, largest feasible weight, batched numpy and torch."""

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
from poe_steer_ros.core.compose import GaussianPair, Rule
from poe_steer_ros.core.gaussian import DiagGaussian
from poe_steer_ros.core.selector import fuse, select_weight
import pytest
import torch

MEANS = st.floats(-3.0, 3.0)
LOG_STDS = st.floats(-2.5, 2.5)
CAPS = {Rule.POE: 1.0, Rule.KL: 20.0, Rule.ADDITIVE: 1.0}


@st.composite
def pairs(draw, batch: bool = False) -> GaussianPair:
    """Draw a GaussianPair of shape (d,) or (N, d) whose prior differs from the actor."""
    dim = draw(st.integers(1, 8))
    shape = (draw(st.integers(2, 6)), dim) if batch else (dim,)
    actor = DiagGaussian(draw(hnp.arrays(np.float64, shape, elements=MEANS)),
                         np.exp(draw(hnp.arrays(np.float64, shape, elements=LOG_STDS))))
    prior_mean = actor.mean + draw(hnp.arrays(np.float64, shape, elements=MEANS)) + 0.1
    prior = DiagGaussian(prior_mean,
                         np.exp(draw(hnp.arrays(np.float64, shape, elements=LOG_STDS))))
    return GaussianPair(actor, prior)


@given(pairs(), st.sampled_from([Rule.POE, Rule.KL, Rule.ADDITIVE]))
def test_kl_is_non_decreasing_in_the_weight(pair, rule):
    weights = np.linspace(0.0, CAPS[rule], 41)
    kls = np.array([pair.kl_to_actor(rule, float(weight)) for weight in weights])
    assert kls[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(kls) >= -1e-12 * (1.0 + kls[1:]))


@given(pairs(), st.sampled_from([Rule.POE, Rule.KL]), st.floats(0.05, 0.95))
def test_slope_matches_finite_differences(pair, rule, fraction):
    weight = fraction * CAPS[rule]
    step = 1e-6 * CAPS[rule]
    numeric = (pair.kl_to_actor(rule, weight + step)
               - pair.kl_to_actor(rule, weight - step)) / (2.0 * step)
    assert pair.kl_slope(rule, weight) == pytest.approx(numeric, rel=1e-4, abs=1e-6)


@settings(max_examples=150)
@given(pairs(), st.sampled_from([Rule.POE, Rule.KL, Rule.ADDITIVE]),
       st.floats(1e-3, 1.2))
def test_selector_returns_the_largest_feasible_weight(pair, rule, budget_fraction):
    cap = CAPS[rule]
    budget = budget_fraction * pair.kl_to_actor(rule, cap)
    selection = select_weight(rule, pair, budget, cap)
    assert 0.0 <= selection.weight <= cap
    kl = pair.kl_to_actor(rule, selection.weight)
    assert kl <= budget
    assert selection.kl == pytest.approx(kl, rel=1e-9, abs=1e-15)
    if selection.weight < cap:
        assert selection.binding
        # Within the relative weight tolerance of the largest feasible weight.
        assert pair.kl_to_actor(rule, min(selection.weight * (1.0 + 1e-9) + 1e-300, cap)) > budget
    else:
        assert not selection.binding


def test_selector_returns_the_cap_when_it_is_feasible_and_zero_for_a_zero_budget():
    actor = DiagGaussian(np.zeros(3), np.ones(3))
    pair = GaussianPair(actor, DiagGaussian(np.full(3, 0.1), np.ones(3)))
    assert select_weight(Rule.POE, pair, 10.0, 0.7).weight == 0.7
    assert select_weight(Rule.POE, pair, 0.0, 0.7).weight == 0.0
    assert select_weight(Rule.ADDITIVE, pair, 0.0, 0.7).weight == 0.0


def test_selector_rejects_invalid_arguments():
    actor = DiagGaussian(np.zeros(2), np.ones(2))
    pair = GaussianPair(actor, actor)
    with pytest.raises(ValueError, match='no weight to select'):
        select_weight(Rule.FROZEN, pair, 1.0, 1.0)
    with pytest.raises(ValueError, match='kl_budget'):
        select_weight(Rule.POE, pair, -1.0, 1.0)
    with pytest.raises(ValueError, match='max_weight'):
        select_weight(Rule.POE, pair, 1.0, 1.5)
    with pytest.raises(ValueError, match='max_weight'):
        select_weight(Rule.KL, pair, 1.0, float('inf'))


def test_non_finite_prior_is_refused():
    actor = DiagGaussian(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match='means must be finite'):
        GaussianPair(actor, DiagGaussian(np.array([np.nan, 0.0]), np.ones(2)))


@settings(max_examples=40, deadline=None)
@given(pairs(batch=True), st.sampled_from([Rule.POE, Rule.KL, Rule.ADDITIVE]),
       st.floats(1e-3, 1.2))
def test_batched_numpy_and_torch_match_per_state_selection(pair, rule, budget_fraction):
    cap = CAPS[rule]
    budget = budget_fraction * float(np.median(pair.kl_to_actor(rule, cap)))
    batched = select_weight(rule, pair, budget, cap)
    torch_pair = GaussianPair(
        DiagGaussian(torch.from_numpy(pair.actor.mean), torch.from_numpy(pair.actor.std)),
        DiagGaussian(torch.from_numpy(pair.prior.mean), torch.from_numpy(pair.prior.std)))
    torch_batched = select_weight(rule, torch_pair, budget, cap)
    for row in range(pair.actor.mean.shape[0]):
        single = select_weight(rule, GaussianPair(
            DiagGaussian(pair.actor.mean[row], pair.actor.std[row]),
            DiagGaussian(pair.prior.mean[row], pair.prior.std[row])), budget, cap)
        assert batched.weight[row] <= cap
        assert batched.kl[row] <= budget
        # Single and batched runs may stop at different iterates inside the tolerance band.
        assert batched.weight[row] == pytest.approx(single.weight, rel=1e-6, abs=1e-9)
        assert float(torch_batched.weight[row]) == pytest.approx(batched.weight[row],
                                                                 rel=1e-9, abs=1e-12)


def test_fuse_composes_at_the_selected_weight():
    actor = DiagGaussian(np.zeros(2), np.ones(2))
    pair = GaussianPair(actor, DiagGaussian(np.array([2.0, -1.0]), np.array([0.5, 0.5])))
    composition, selection = fuse(Rule.POE, pair, 0.9, kl_budget=0.05)
    assert selection.binding and selection.weight < 0.9
    expected = GaussianPair(actor, pair.prior).compose(Rule.POE, selection.weight)
    np.testing.assert_array_equal(composition.gaussian.mean, expected.gaussian.mean)
    composition, selection = fuse(Rule.POE, pair, 0.9)
    assert selection.weight == 0.9 and not selection.binding
    assert selection.kl == pytest.approx(pair.kl_to_actor(Rule.POE, 0.9))
    composition, selection = fuse(Rule.PRIOR_ONLY, pair, 0.9, kl_budget=0.05)
    np.testing.assert_array_equal(composition.gaussian.mean, pair.prior.mean)
