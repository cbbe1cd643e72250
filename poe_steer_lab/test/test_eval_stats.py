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

"""Paired bootstrap and the HELP / FROZEN / HURT classification on synthetic paired data."""

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
from poe_steer_lab.eval.stats import paired_bootstrap, Verdict
import pytest

BASELINE = np.random.default_rng(7).normal(1.0, 0.5, size=40)
"""Frozen returns of 40 episodes: the steered returns below are paired with them."""


def test_a_clear_gain_is_help():
    treated = BASELINE + np.random.default_rng(1).normal(0.3, 0.1, size=40)
    comparison = paired_bootstrap(treated, BASELINE)
    assert comparison.verdict is Verdict.HELP
    assert 0.0 < comparison.low < comparison.mean_difference < comparison.high


def test_a_clear_loss_is_hurt():
    treated = BASELINE + np.random.default_rng(2).normal(-0.3, 0.1, size=40)
    comparison = paired_bootstrap(treated, BASELINE)
    assert comparison.verdict is Verdict.HURT
    assert comparison.low < comparison.mean_difference < comparison.high < 0.0


def test_symmetric_differences_are_a_tie():
    treated = BASELINE + np.tile([-0.4, 0.4], 20)
    comparison = paired_bootstrap(treated, BASELINE)
    assert comparison.verdict is Verdict.FROZEN
    assert comparison.low < 0.0 < comparison.high


def test_identical_runs_are_frozen_with_an_empty_interval():
    comparison = paired_bootstrap(BASELINE, BASELINE.copy())
    assert comparison.verdict is Verdict.FROZEN
    assert comparison.low == comparison.high == comparison.mean_difference == 0.0


def test_a_steady_gain_is_precise_and_one_carried_by_few_episodes_is_not():
    steady = paired_bootstrap(BASELINE + 50.0 + np.tile([-1.0, 1.0], 20), BASELINE)
    assert steady.verdict is Verdict.HELP and steady.precise
    few = paired_bootstrap(BASELINE + np.array([1.0] * 35 + [100.0] * 5), BASELINE)
    assert few.verdict is Verdict.HELP and not few.precise
    assert few.high - few.low >= few.mean_difference
    assert few.unresolved and not steady.unresolved
    tie = paired_bootstrap(BASELINE + np.tile([-0.4, 0.4], 20), BASELINE)
    assert not tie.precise and not tie.unresolved, 'a tie has no size to resolve'


def test_pairing_matters():
    # A small shift hidden by large between-episode spread: an unpaired view would call it
    # a tie, the paired test sees that every episode improved.
    spread = np.random.default_rng(3).normal(0.0, 5.0, size=40)
    comparison = paired_bootstrap(spread + 0.05, spread)
    assert comparison.verdict is Verdict.HELP


def test_interval_covers_the_true_mean_at_about_the_stated_level():
    rng = np.random.default_rng(11)
    covered = 0
    trials = 200
    for trial in range(trials):
        differences = rng.normal(0.0, 1.0, size=30)
        comparison = paired_bootstrap(differences, np.zeros(30), resamples=1000, seed=trial)
        covered += comparison.low <= 0.0 <= comparison.high
    assert 0.88 <= covered / trials <= 0.99


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, st.integers(2, 30), elements=st.floats(-10, 10)),
       hnp.arrays(np.float64, 30, elements=st.floats(-10, 10)))
def test_swapping_the_arms_mirrors_interval_and_verdict(treated, baseline):
    baseline = baseline[:treated.size]
    forward = paired_bootstrap(treated, baseline, resamples=300)
    backward = paired_bootstrap(baseline, treated, resamples=300)
    assert backward.mean_difference == pytest.approx(-forward.mean_difference, abs=1e-9)
    assert backward.low == pytest.approx(-forward.high, abs=1e-9)
    assert backward.high == pytest.approx(-forward.low, abs=1e-9)
    mirrored = {Verdict.HELP: Verdict.HURT, Verdict.HURT: Verdict.HELP,
                Verdict.FROZEN: Verdict.FROZEN}
    if forward.low != 0.0 and forward.high != 0.0:
        assert backward.verdict is mirrored[forward.verdict]


@pytest.mark.parametrize(('treated', 'baseline', 'options', 'names'), [
    (np.ones(3), np.ones(4), {}, 'treated and baseline'),
    (np.ones(1), np.ones(1), {}, 'at least 2'),
    (np.array([1.0, np.nan]), np.ones(2), {}, 'finite'),
    (np.ones(3), np.ones(3), {'resamples': 0}, 'resamples'),
    (np.ones(3), np.ones(3), {'level': 1.0}, 'level'),
])
def test_bad_inputs_are_rejected_by_name(treated, baseline, options, names):
    with pytest.raises(ValueError, match=names):
        paired_bootstrap(treated, baseline, **options)
