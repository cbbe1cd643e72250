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

"""Evaluation priors: the oracle is the expert; degraded priors have the stated noise and std."""

import numpy as np
from poe_steer_lab.eval.priors import (build_prior, DegradedPrior, Flavour, ORACLE, OraclePrior,
                                       PriorKind, PriorSettings, PriorSpec, RANDOM, RandomPrior)
from poe_steer_ros.core.gaussian import ActionScale
from poe_steer_ros.core.interfaces import BASE_V, BASE_W, BASE_X, BASE_Y, BASE_YAW, Space
from poe_steer_ros.core.priors import GoalPrior
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW
from poe_steer_sim.world import default_world
import pytest

SCALE = ActionScale(COMMAND_LOW, COMMAND_HIGH)
HALF_RANGE = (COMMAND_HIGH - COMMAND_LOW) / 2.0
STATE = {BASE_X: 0.5, BASE_Y: -0.2, BASE_YAW: 0.3, BASE_V: 0.0, BASE_W: 0.0}
GOAL = np.array([3.0, 0.5])
OBS = np.zeros(8)
SETTINGS = PriorSettings(oracle_std=0.1, random_std=0.5, noise_correlation=0.9)


@pytest.fixture(scope='module')
def oracle() -> OraclePrior:
    return OraclePrior(default_world(), SCALE, SETTINGS.oracle_std)


def test_every_prior_is_a_goal_prior_in_command_space(oracle):
    for spec in (ORACLE, RANDOM, PriorSpec(PriorKind.DEGRADED, 0.5, Flavour.OVERCONFIDENT)):
        prior = build_prior(spec, oracle, SCALE, SETTINGS)
        assert isinstance(prior, GoalPrior)
        assert prior(STATE, GOAL, OBS).space is Space.COMMAND


def test_oracle_is_the_expert_with_std_0(oracle):
    gaussian = oracle(STATE, GOAL, OBS)
    np.testing.assert_array_equal(gaussian.mean, oracle.expert_command(STATE, GOAL))
    np.testing.assert_allclose(gaussian.std, 0.1 * HALF_RANGE)
    assert np.all(gaussian.mean >= COMMAND_LOW) and np.all(gaussian.mean <= COMMAND_HIGH)
    assert gaussian.mean[0] > 0.0, 'the goal lies ahead: the expert drives forward'


def _noise_samples(prior: DegradedPrior, oracle: OraclePrior, seed: int,
                   calls: int) -> tuple[np.ndarray, np.ndarray]:
    prior.start_episode(seed)
    clean = oracle.expert_command(STATE, GOAL)
    draws = [prior(STATE, GOAL, OBS) for _ in range(calls)]
    return np.array([draw.mean - clean for draw in draws]), draws[-1].std


@pytest.mark.parametrize('noise', [0.25, 1.0])
def test_degraded_noise_has_the_stated_scale_and_correlation(oracle, noise):
    prior = DegradedPrior(oracle, SCALE, noise, Flavour.HONEST, SETTINGS.noise_correlation)
    deviations, _ = _noise_samples(prior, oracle, seed=3, calls=20000)
    normalised = deviations / HALF_RANGE
    np.testing.assert_allclose(normalised.mean(axis=0), 0.0, atol=0.1 * noise)
    np.testing.assert_allclose(normalised.std(axis=0), noise, rtol=0.1)
    lag_one = [np.corrcoef(column[:-1], column[1:])[0, 1] for column in normalised.T]
    np.testing.assert_allclose(lag_one, 0.9, atol=0.02)


def test_the_first_draw_is_already_stationary(oracle):
    prior = DegradedPrior(oracle, SCALE, 1.0, Flavour.HONEST, SETTINGS.noise_correlation)
    first = np.array([_noise_samples(prior, oracle, seed, 1)[0][0] for seed in range(2000)])
    np.testing.assert_allclose(first.std(axis=0) / HALF_RANGE, 1.0, rtol=0.1)


@pytest.mark.parametrize(('flavour', 'expected'), [
    (Flavour.HONEST, np.sqrt(0.1**2 + 0.5**2)), (Flavour.OVERCONFIDENT, 0.1)])
def test_flavours_state_their_std(oracle, flavour, expected):
    prior = DegradedPrior(oracle, SCALE, 0.5, flavour, SETTINGS.noise_correlation)
    _, std = _noise_samples(prior, oracle, seed=0, calls=3)
    np.testing.assert_allclose(std, expected * HALF_RANGE)


def test_both_flavours_draw_the_same_noise_for_a_seed(oracle):
    honest = DegradedPrior(oracle, SCALE, 0.5, Flavour.HONEST, 0.9)
    confident = DegradedPrior(oracle, SCALE, 0.5, Flavour.OVERCONFIDENT, 0.9)
    np.testing.assert_array_equal(_noise_samples(honest, oracle, 5, 50)[0],
                                  _noise_samples(confident, oracle, 5, 50)[0])
    assert not np.array_equal(_noise_samples(honest, oracle, 5, 50)[0],
                              _noise_samples(honest, oracle, 6, 50)[0])


def test_random_prior_holds_one_mean_per_episode_inside_the_bounds():
    prior = RandomPrior(SCALE, 0.5)
    means = []
    for seed in range(200):
        prior.start_episode(seed)
        first = prior(STATE, GOAL, OBS)
        again = prior({**STATE, BASE_X: 2.0}, -GOAL, OBS)
        np.testing.assert_array_equal(first.mean, again.mean)
        np.testing.assert_allclose(first.std, 0.5 * HALF_RANGE)
        means.append(first.mean)
    means = np.array(means)
    assert np.all(means >= COMMAND_LOW) and np.all(means <= COMMAND_HIGH)
    centred = (means.mean(axis=0) - (COMMAND_LOW + COMMAND_HIGH) / 2) / HALF_RANGE
    np.testing.assert_allclose(centred, 0.0, atol=0.15)


@pytest.mark.parametrize(('fields', 'names'), [
    ({'kind': PriorKind.DEGRADED, 'noise': 0.0}, 'noise'),
    ({'kind': PriorKind.ORACLE, 'noise': 0.5}, 'noise'),
    ({'kind': PriorKind.RANDOM, 'flavour': Flavour.OVERCONFIDENT}, 'flavour'),
    ({'kind': 'gaussian'}, 'gaussian'),
])
def test_prior_spec_rejects_inconsistent_fields(fields, names):
    with pytest.raises(ValueError, match=names):
        PriorSpec(**fields)


def test_prior_labels_name_kind_flavour_and_noise():
    assert ORACLE.label == 'oracle' and RANDOM.label == 'random'
    assert PriorSpec(PriorKind.DEGRADED, 0.5, Flavour.OVERCONFIDENT).label == 'overconfident 0.5'
