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

"""Gaussian types and the maps between command, action and pre-squash space."""

import dataclasses
import math

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
from poe_steer_ros.core.gaussian import (ActionScale, array_namespace, ATANH_CLIP_EPS,
                                         DiagGaussian, FullGaussian, kl_divergence, squash,
                                         sum_last, to_pre_squash)
from poe_steer_ros.core.interfaces import OutputKind, Space
import pytest
import torch

SCALE = ActionScale(np.array([-0.5, -2.0, 0.0]), np.array([1.5, 2.0, 0.1]))


@given(hnp.arrays(np.float64, 3, elements=st.floats(-1.0, 1.0)))
def test_action_scale_round_trips_and_maps_bounds(action):
    np.testing.assert_allclose(SCALE.to_action(SCALE.to_command(action)), action, atol=1e-12)
    np.testing.assert_allclose(SCALE.to_command(np.ones(3)), SCALE.high)
    np.testing.assert_allclose(SCALE.to_command(-np.ones(3)), SCALE.low)


def test_action_scale_is_read_only_and_validated():
    with pytest.raises(ValueError):
        SCALE.scale[0] = 3.0
    with pytest.raises(ValueError, match='high > low'):
        ActionScale(np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match='1-D'):
        ActionScale(np.zeros((2, 2)), np.ones((2, 2)))


@given(hnp.arrays(np.float64, 3, elements=st.floats(-10.0, 10.0)),
       hnp.arrays(np.float64, 3, elements=st.floats(1e-3, 5.0)))
def test_tanh_mapping_clips_then_applies_atanh_and_the_delta_method(command_mean, command_std):
    prior = DiagGaussian(command_mean, command_std, Space.COMMAND)
    mapped = to_pre_squash(prior, SCALE, OutputKind.TANH_GAUSSIAN)
    assert mapped.space is Space.PRE_SQUASH
    limit = math.atanh(1.0 - ATANH_CLIP_EPS)
    assert np.all(np.abs(mapped.mean) <= limit + 1e-12)
    action = np.clip(SCALE.to_action(command_mean), ATANH_CLIP_EPS - 1.0, 1.0 - ATANH_CLIP_EPS)
    np.testing.assert_allclose(np.tanh(mapped.mean), action, atol=1e-12)
    # Delta method: std_u = std_a * d atanh / da at the clipped point.
    step = 1e-7
    derivative = (np.arctanh(action + step) - np.arctanh(action - step)) / (2.0 * step)
    np.testing.assert_allclose(mapped.std, command_std / SCALE.scale * derivative, rtol=1e-5)


def test_saturated_prior_maps_to_the_clip_with_a_bounded_std_inflation():
    prior = DiagGaussian(np.array([100.0, -100.0, 0.05]), np.full(3, 0.01), Space.COMMAND)
    mapped = to_pre_squash(prior, SCALE, OutputKind.TANH_GAUSSIAN)
    limit = math.atanh(1.0 - ATANH_CLIP_EPS)
    np.testing.assert_allclose(mapped.mean, [limit, -limit, 0.0], atol=1e-12)
    inflation = 1.0 / (1.0 - (1.0 - ATANH_CLIP_EPS) ** 2)
    np.testing.assert_allclose(mapped.std[:2], 0.01 / SCALE.scale[:2] * inflation)


def test_gaussian_actors_clip_the_action_mean_and_scale_the_std():
    prior = DiagGaussian(np.array([100.0, 1.0, 0.05]), np.full(3, 0.2), Space.COMMAND)
    for kind in (OutputKind.GAUSSIAN, OutputKind.DETERMINISTIC):
        mapped = to_pre_squash(prior, SCALE, kind)
        np.testing.assert_allclose(mapped.mean, [1.0, 0.5, 0.0], atol=1e-12)
        np.testing.assert_allclose(mapped.std, 0.2 / SCALE.scale)


def test_action_space_priors_skip_the_affine_map_and_pre_squash_priors_pass_through():
    prior = DiagGaussian(np.array([0.5, 0.0, -0.5]), np.full(3, 0.1), Space.ACTION)
    mapped = to_pre_squash(prior, SCALE, OutputKind.TANH_GAUSSIAN)
    np.testing.assert_allclose(mapped.mean, np.arctanh(prior.mean))
    same = DiagGaussian(np.zeros(3), np.ones(3))
    assert to_pre_squash(same, SCALE, OutputKind.TANH_GAUSSIAN) is same
    with pytest.raises(ValueError, match='eps'):
        to_pre_squash(prior, SCALE, OutputKind.TANH_GAUSSIAN, eps=0.0)


def test_squash_uses_tanh_or_clip():
    pre_squash = np.array([-3.0, 0.2, 5.0])
    np.testing.assert_allclose(squash(pre_squash, OutputKind.TANH_GAUSSIAN), np.tanh(pre_squash))
    np.testing.assert_allclose(squash(pre_squash, OutputKind.GAUSSIAN), [-1.0, 0.2, 1.0])
    tensor = torch.tensor(pre_squash)
    np.testing.assert_allclose(squash(tensor, OutputKind.TANH_GAUSSIAN).numpy(),
                               np.tanh(pre_squash))


def test_diag_gaussian_checks_shapes_and_derives_moments():
    with pytest.raises(ValueError, match='one shape'):
        DiagGaussian(np.zeros(2), np.ones(3))
    gaussian = DiagGaussian.from_log_std(np.zeros(2), np.log(np.array([2.0, 3.0])))
    np.testing.assert_allclose(gaussian.std, [2.0, 3.0])
    np.testing.assert_allclose(gaussian.var, [4.0, 9.0])
    np.testing.assert_allclose(gaussian.log_std, np.log([2.0, 3.0]))
    assert gaussian.dim == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        gaussian.mean = np.ones(2)


def test_log_prob_and_kl_match_known_values():
    standard = DiagGaussian(np.zeros(1), np.ones(1))
    assert float(standard.log_prob(np.zeros(1))) == pytest.approx(-0.5 * math.log(2 * math.pi))
    shifted = DiagGaussian(np.ones(1), np.ones(1))
    assert float(kl_divergence(shifted, standard)) == pytest.approx(0.5)
    wide = DiagGaussian(np.zeros(1), np.full(1, 2.0))
    assert float(kl_divergence(wide, standard)) == pytest.approx(
        0.5 * (4.0 - 1.0 - math.log(4.0)))
    with pytest.raises(ValueError, match='space'):
        kl_divergence(DiagGaussian(np.zeros(1), np.ones(1), Space.COMMAND), standard)


def test_kl_matches_monte_carlo():
    rng = np.random.default_rng(3)
    p = DiagGaussian(np.array([0.3, -1.0]), np.array([0.5, 2.0]))
    q = DiagGaussian(np.array([1.0, 0.0]), np.array([1.0, 1.5]))
    samples = p.mean + p.std * rng.standard_normal((400_000, 2))
    estimate = np.mean(p.log_prob(samples) - q.log_prob(samples))
    assert float(kl_divergence(p, q)) == pytest.approx(estimate, rel=0.01)


def test_full_gaussian_matches_diagonal_and_checks_shapes():
    diagonal = DiagGaussian(np.array([0.5, -0.2]), np.array([0.3, 2.0]))
    full = FullGaussian.from_diag(diagonal)
    points = np.array([[0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(full.log_prob(points), diagonal.log_prob(points))
    np.testing.assert_allclose(full.precision, np.diag(1.0 / diagonal.var))
    with pytest.raises(ValueError, match='cov must have shape'):
        FullGaussian(np.zeros(2), np.eye(3))


def test_namespace_and_sum_helpers():
    assert array_namespace(np.zeros(2)) is np
    assert array_namespace(torch.zeros(2)) is torch
    with pytest.raises(TypeError, match='numpy array or a torch tensor'):
        array_namespace([1.0, 2.0])
    assert sum_last(np.array([1.0, 2.0])) == 3.0
    np.testing.assert_allclose(sum_last(np.ones((2, 3))), [3.0, 3.0])
