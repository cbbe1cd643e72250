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

"""The compiled per-state path agrees with the array reference: composition, clamp, priors."""

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
from poe_steer_ros.core import numerics
from poe_steer_ros.core.compose import Composition, GaussianPair, Rule
from poe_steer_ros.core.gaussian import ActionScale, DiagGaussian, SPACE_CODES
from poe_steer_ros.core.interfaces import Space
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.selector import fuse, fuse_state, Selection
from poe_steer_ros.core.steerer import LOG_STD_MAX, LOG_STD_MIN
import pytest

kernels = pytest.importorskip('poe_steer_ros.core.kernels',
                              reason='numba is not installed (optional on a robot)')

CAPS = {Rule.POE: 1.0, Rule.KL: 20.0, Rule.ADDITIVE: 1.0, Rule.FROZEN: 0.0,
        Rule.PRIOR_ONLY: 0.0}


@st.composite
def states(draw):
    """Draw one actor and one prior Gaussian of 1 to 32 dimensions, some far apart or extreme."""
    dim = draw(st.integers(1, 32))
    means = st.floats(-30.0, 30.0)
    log_stds = st.floats(-12.0, 12.0)
    actor = DiagGaussian(draw(hnp.arrays(np.float64, dim, elements=means)),
                         np.exp(draw(hnp.arrays(np.float64, dim, elements=log_stds))))
    prior = DiagGaussian(draw(hnp.arrays(np.float64, dim, elements=means)),
                         np.exp(draw(hnp.arrays(np.float64, dim, elements=log_stds))))
    return actor, prior


def _batch_reference(rule, actor, prior, weight, budget=0.0):
    """Return ``fuse`` of the state as a batch of one: the vectorised array path."""
    batch = GaussianPair(*(DiagGaussian(gaussian.mean[None], gaussian.std[None])
                           for gaussian in (actor, prior)))
    composition, selection = fuse(rule, batch, weight, budget)
    first = composition.gaussian
    return (Composition(DiagGaussian(first.mean[0], first.std[0]), composition.prior_weight[0]),
            Selection(float(np.ravel(selection.weight)[0]), float(np.ravel(selection.kl)[0]),
                      bool(np.ravel(selection.binding)[0])))


def _assert_same(single, reference, rtol=1e-9):
    (composition, selection), (expected, expected_selection) = single, reference
    for name in ('mean', 'std'):
        np.testing.assert_allclose(getattr(composition.gaussian, name),
                                   getattr(expected.gaussian, name), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(composition.prior_weight, expected.prior_weight, rtol=rtol,
                               atol=1e-12)
    assert selection.weight == pytest.approx(expected_selection.weight, rel=rtol, abs=1e-12)
    assert selection.kl == pytest.approx(expected_selection.kl, rel=1e-7, abs=1e-10)
    assert selection.binding == bool(expected_selection.binding)


@settings(max_examples=300)
@given(states(), st.sampled_from(list(Rule)), st.floats(0.0, 1.0))
def test_fuse_state_matches_fuse_without_budget(pair, rule, fraction):
    weight = fraction * CAPS[rule]
    _assert_same(fuse_state(rule, *pair, weight), _batch_reference(rule, *pair, weight))


@settings(max_examples=300)
@given(states(), st.sampled_from([Rule.POE, Rule.KL, Rule.ADDITIVE]), st.floats(1e-3, 1.2))
def test_fuse_state_matches_fuse_with_a_budget(pair, rule, budget_fraction):
    cap = CAPS[rule]
    kl_at_cap = GaussianPair(*pair).kl_to_actor(rule, cap)
    budget = min(budget_fraction * kl_at_cap, 1e6) if np.isfinite(kl_at_cap) else 1.0
    if budget <= 0.0:
        budget = 1e-6
    single, reference = (fuse_state(rule, *pair, cap, budget),
                         _batch_reference(rule, *pair, cap, budget))
    assert single[1].kl <= budget and reference[1].kl <= budget
    if abs(budget - kl_at_cap) <= 1e-9 * budget:
        # A budget equal to the KL at the cap: whether it binds depends on the last bits of the
        # KL, which the kernel's and numpy's log round differently (numpy 1.26 against 2.x).
        assert single[1].weight == pytest.approx(reference[1].weight, rel=1e-8)
    elif budget > 1e-12:
        # The same Newton iteration on both sides: the weights agree up to rounding of the KL.
        _assert_same(single, reference, rtol=1e-6)
    else:
        # KLs near the smallest doubles: both meet the budget, the weights may differ.
        assert single[1].binding == reference[1].binding


def test_fuse_state_keeps_extreme_stds_finite_like_fuse():
    """Stds at the Steerer's clip range and means far apart."""
    tiny, huge = np.exp(LOG_STD_MIN), np.exp(LOG_STD_MAX)
    actor = DiagGaussian(np.array([0.0, 1e100, -2.0]), np.array([tiny, 1.0, huge]))
    prior = DiagGaussian(np.array([1.0, -1e100, 2.0]), np.array([huge, tiny, 1e-3]))
    for rule, weight in ((Rule.POE, 0.5), (Rule.KL, 1.0), (Rule.ADDITIVE, 0.5)):
        for budget in (0.0, 0.3):
            composition, _ = fuse_state(rule, actor, prior, weight, budget)
            assert np.isfinite(composition.gaussian.mean).all()
            assert np.isfinite(composition.gaussian.std).all()
            _assert_same((composition, _), _batch_reference(rule, actor, prior, weight, budget))


def test_fuse_state_gives_the_same_errors_as_fuse():
    actor = DiagGaussian(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match='alpha'):
        fuse_state(Rule.POE, actor, actor, 1.5)
    for single in (True, False):
        with pytest.raises(ValueError, match='max_weight'):
            if single:
                fuse_state(Rule.KL, actor, actor, float('inf'), 0.1)
            else:
                fuse(Rule.KL, GaussianPair(actor, actor), float('inf'), 0.1)
    with pytest.raises(ValueError, match='space'):
        fuse_state(Rule.POE, actor, DiagGaussian(np.zeros(2), np.ones(2), Space.COMMAND), 0.5)
    with pytest.raises(ValueError, match='one numpy state'):
        fuse_state(Rule.POE, actor, DiagGaussian(np.zeros(3), np.ones(3)), 0.5)
    # Rules without a weight ignore it, budget or not, as fuse does.
    for rule in (Rule.FROZEN, Rule.PRIOR_ONLY):
        _assert_same(fuse_state(rule, actor, actor, float('inf'), 0.1),
                     fuse(rule, GaussianPair(actor, actor), float('inf'), 0.1))
    batch = DiagGaussian(np.zeros((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match='one numpy state'):
        fuse_state(Rule.POE, batch, batch, 0.5)


def _reference_clamp(envelope, command, previous, dt_s):
    """Clamp by the envelope's rule written with numpy array operations."""
    low, high = envelope.command_low, envelope.command_high
    if previous is not None:
        max_step = envelope.max_rate_per_s * max(dt_s, 1e-9)
        low = np.maximum(low, previous - max_step)
        high = np.minimum(high, previous + max_step)
    return np.minimum(np.maximum(command, low), high)


@settings(max_examples=300)
@given(st.integers(1, 32).flatmap(lambda dim: st.tuples(
    hnp.arrays(np.float64, dim, elements=st.floats(-5.0, 5.0)),
    hnp.arrays(np.float64, dim, elements=st.floats(0.0, 1.0)),
    hnp.arrays(np.float64, dim, elements=st.floats(-10.0, 10.0) | st.just(np.nan)),
    hnp.arrays(np.float64, dim, elements=st.floats(0.0, 1.0)),
    hnp.arrays(np.float64, dim, elements=st.floats(0.01, 100.0) | st.just(np.inf)))),
    st.floats(-1.0, 1.0), st.booleans())
def test_clamp_matches_the_array_rule(arrays, dt_s, with_previous):
    low, width, command, position, rate = arrays
    envelope = SafetyEnvelope(low, low + width, rate)
    previous = low + position * width if with_previous else None
    clamped, changed = envelope.clamp(command, previous, dt_s)
    expected = _reference_clamp(envelope, command, previous, dt_s)
    np.testing.assert_array_equal(clamped, expected)
    assert changed == (expected.tolist() != command.tolist())


def test_clamp_refuses_wrong_lengths():
    envelope = SafetyEnvelope(-np.ones(2), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match='shape'):
        envelope.clamp(np.zeros(3), None, 0.1)
    with pytest.raises(ValueError, match='shape'):
        envelope.clamp(np.zeros(2), np.zeros(1), 0.1)


def _reference_prior_to_pre_squash(mean, std, space, low, high, scale, tanh, eps, std_min,
                                   std_max):
    """Map a prior as the Steerer does, written with numpy array operations."""
    if space is Space.COMMAND:
        mean = np.minimum(np.maximum(mean, low), high)
        mean, std = scale.to_action(mean), std / scale.scale
    if space is not Space.PRE_SQUASH and tanh:
        action = np.minimum(np.maximum(mean, eps - 1.0), 1.0 - eps)
        mean, std = np.arctanh(action), std / (1.0 - action * action)
    elif space is not Space.PRE_SQUASH:
        mean = np.minimum(np.maximum(mean, -1.0), 1.0)
    return mean, np.minimum(np.maximum(std, std_min), std_max)


@settings(max_examples=300)
@given(st.integers(1, 32).flatmap(lambda dim: st.tuples(
    hnp.arrays(np.float64, dim, elements=st.floats(-50.0, 50.0) | st.just(np.nan)),
    hnp.arrays(np.float64, dim, elements=st.floats(1e-9, 1e9)),
    hnp.arrays(np.float64, dim, elements=st.floats(-5.0, 5.0)),
    hnp.arrays(np.float64, dim, elements=st.floats(0.01, 5.0)))),
    st.sampled_from(list(Space)), st.booleans(), st.floats(1e-4, 0.5))
def test_prior_mapping_matches_the_array_rule(arrays, space, tanh, eps):
    mean, std, low, width = arrays
    scale = ActionScale(low - width, low + 2.0 * width)
    bounds = (low - 0.5 * width, low + width)
    std_min, std_max = np.exp(LOG_STD_MIN), np.exp(LOG_STD_MAX)
    expected = _reference_prior_to_pre_squash(mean, std, space, *bounds, scale, tanh, eps,
                                              std_min, std_max)
    # numba is optional (core.per_state): core.numerics maps the prior with numpy.
    for implementation in (kernels, numerics):
        mapped = np.empty(mean.size), np.empty(mean.size)
        valid = implementation.prior_to_pre_squash(mean, std, SPACE_CODES[space], *bounds,
                                                   scale.scale, scale.offset, tanh, eps,
                                                   std_min, std_max, *mapped)
        assert valid == bool(np.isfinite(mean).all())
        if valid:
            for value, reference in zip(mapped, expected):
                np.testing.assert_allclose(value, reference, rtol=1e-12, atol=1e-15)


# numba is optional (core.per_state): core.numerics runs the same kernels with numpy.
@settings(max_examples=200)
@given(st.integers(1, 8).flatmap(lambda dim: st.tuples(
    st.just(dim),
    st.integers(1, 4),
    hnp.arrays(np.float64, 4 * dim, elements=st.floats(-10.0, 10.0) | st.just(np.nan)),
    hnp.arrays(np.float64, 4 * dim, elements=st.floats(-2.0, 2.0)),
    hnp.arrays(np.float64, dim, elements=st.floats(0.0, 100.0) | st.just(np.inf)))),
    st.floats(-1.0, 1.0) | st.just(np.nan), st.booleans())
def test_numpy_clamp_equals_the_compiled_one_bit_for_bit(arrays, dt_s, rate_limited):
    dim, rows, command, previous, rate = arrays
    size = rows * dim
    low, high = -np.ones(dim), np.full(dim, 2.0)
    outputs = []
    for implementation in (kernels, numerics):
        out = np.empty(size)
        changed = implementation.clamp(command[:size], low, high, rate, previous[:size], dt_s,
                                       rate_limited, out)
        outputs.append((out, changed))
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    assert outputs[0][1] == outputs[1][1]


@pytest.mark.parametrize('implementation', [kernels, numerics], ids=['numba', 'numpy'])
def test_both_kernels_refuse_wrong_lengths(implementation):
    two, three = np.zeros(2), np.zeros(3)
    with pytest.raises(ValueError, match='one entry per envelope dimension'):
        implementation.clamp(three, two, two, two, three, 0.1, False, np.empty(3))
    with pytest.raises(ValueError, match='one entry per action dimension'):
        implementation.squash_to_command(three, True, two, two, np.empty(2))
    with pytest.raises(ValueError, match='one entry per action dimension'):
        implementation.prior_to_pre_squash(three, three, 0, two, two, two, two, True, 1e-6,
                                           0.0, 1.0, np.empty(3), np.empty(3))


@settings(max_examples=200)
@given(st.integers(1, 16).flatmap(lambda dim: hnp.arrays(
    np.float64, dim, elements=st.floats(-30.0, 30.0) | st.just(np.nan) | st.just(np.inf))),
    st.booleans())
def test_numpy_squash_matches_the_compiled_one(pre_squash, tanh):
    scale, offset = np.linspace(0.5, 2.0, pre_squash.size), np.linspace(-1.0, 1.0, pre_squash.size)
    outputs = []
    for implementation in (kernels, numerics):
        out = np.empty(pre_squash.size)
        finite = implementation.squash_to_command(pre_squash, tanh, scale, offset, out)
        outputs.append((out, finite))
    np.testing.assert_allclose(outputs[0][0], outputs[1][0], rtol=1e-13, atol=1e-15)  # tanh: ulps
    assert outputs[0][1] == outputs[1][1] == bool(np.isfinite(pre_squash).all())


@settings(max_examples=200)
@given(st.integers(1, 200).flatmap(lambda count: st.tuples(
    hnp.arrays(np.float64, count, elements=st.floats(0.0, 20.0) | st.just(np.inf)
               | st.just(-np.inf)),
    hnp.arrays(np.intp, count, elements=st.integers(0, 7)))),
    st.floats(0.0, 0.5), st.floats(1.0, 30.0), st.booleans())
def test_numpy_scan_sectors_equal_the_compiled_ones(arrays, range_min, range_max, with_nan):
    ranges, sectors = arrays
    if with_nan:
        ranges = ranges.copy()
        ranges[len(ranges) // 2] = np.nan
    outputs = []
    for implementation in (kernels, numerics):
        out = np.empty(8)
        outputs.append((implementation.sector_features(ranges, sectors, range_min, range_max,
                                                       5.0, out), out))
    assert outputs[0][0] == outputs[1][0] == (not with_nan)
    if not with_nan:
        np.testing.assert_array_equal(outputs[0][1], outputs[1][1])


@settings(max_examples=200)
@given(st.integers(1, 12).flatmap(lambda dim: st.tuples(
    hnp.arrays(np.float64, (64, dim), elements=st.floats(-5.0, 5.0)),
    hnp.arrays(np.float64, dim, elements=st.floats(-10.0, 10.0)),
    hnp.arrays(np.float64, dim, elements=st.floats(0.1, 3.0)))),
    st.integers(1, 64))
def test_numpy_knn_distance_matches_the_compiled_one(arrays, k):
    points, obs, std = arrays
    mean = np.zeros(points.shape[1])
    compiled = kernels.knn_mean_distance(np.ascontiguousarray(points), obs, mean, std, k)
    plain = numerics.knn_mean_distance(points, obs, mean, std, k)
    assert plain == pytest.approx(compiled, rel=1e-9, abs=1e-12)
