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

"""Safety envelope: validation, read-only limits, bounds and rate limits."""

import dataclasses

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
from poe_steer_ros.core.safety import Fallback, SafetyEnvelope
import pytest

LOW = np.array([-0.5, -1.0, 0.2])
HIGH = np.array([0.5, 1.0, 0.8])
RATE = np.array([1.0, np.inf, 2.0])


def make_envelope(**changes) -> SafetyEnvelope:
    fields = {'command_low': LOW, 'command_high': HIGH, 'max_rate_per_s': RATE}
    fields.update(changes)
    return SafetyEnvelope(**fields)


def test_envelope_is_read_only_and_independent_of_its_inputs():
    low = LOW.copy()
    envelope = make_envelope(command_low=low)
    low[0] = -100.0
    assert envelope.command_low[0] == -0.5
    with pytest.raises(ValueError):
        envelope.command_high[0] = 100.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        envelope.alpha_max = 1.0
    assert envelope.fallback is Fallback.HOLD and envelope.dim == 3


@pytest.mark.parametrize('changes, field', [
    ({'command_low': [0.0, 0.0, 0.9]}, 'command_low and command_high'),
    ({'command_high': [1.0, 1.0]}, 'one length'),
    ({'max_rate_per_s': [1.0, 0.0, 1.0]}, 'max_rate_per_s'),
    ({'max_rate_per_s': [1.0, np.nan, 1.0]}, 'max_rate_per_s'),
    ({'alpha_max': 1.5}, 'alpha_max'),
    ({'fallback': 'brake'}, 'fallback'),
    ({'command_low': 'abc'}, 'command_low'),
    ({'command_low': []}, 'command_low'),
])
def test_invalid_envelopes_are_rejected_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        make_envelope(**changes)


def test_fallback_accepts_its_string_value():
    assert make_envelope(fallback='actor_only').fallback is Fallback.ACTOR_ONLY


def test_zero_command_is_clipped_into_the_bounds():
    np.testing.assert_array_equal(make_envelope().zero_command(), [0.0, 0.0, 0.2])


@given(hnp.arrays(np.float64, 3, elements=st.floats(-1e6, 1e6)),
       hnp.arrays(np.float64, 3, elements=st.floats(0.0, 1.0)),
       st.floats(1e-4, 1.0))
def test_clamp_respects_bounds_and_rates(command, previous_fraction, dt_s):
    envelope = make_envelope()
    previous = LOW + previous_fraction * (HIGH - LOW)
    clamped, changed = envelope.clamp(command, previous, dt_s)
    assert np.all(clamped >= LOW) and np.all(clamped <= HIGH)
    assert np.all(np.abs(clamped - previous) <= RATE * dt_s + 1e-12)
    assert changed == (not np.array_equal(clamped, command))
    inside = np.clip(command, np.maximum(LOW, previous - RATE * dt_s),
                     np.minimum(HIGH, previous + RATE * dt_s))
    np.testing.assert_array_equal(clamped, inside)


def test_first_command_is_only_bounded_and_infinite_rates_stay_unlimited():
    envelope = make_envelope()
    clamped, changed = envelope.clamp(np.array([0.4, -0.9, 0.7]), None, 0.0)
    np.testing.assert_array_equal(clamped, [0.4, -0.9, 0.7])
    assert not changed
    # Time not advancing: rate-limited dimensions hold (to 1 ns worth of change).
    held, changed = envelope.clamp(np.array([0.4, -0.9, 0.7]), np.zeros(3) + 0.2, 0.0)
    np.testing.assert_allclose(held, [0.2, -0.9, 0.2], atol=1e-8)
    assert changed
    backwards, _ = envelope.clamp(np.array([0.4, 0.9, 0.7]), np.full(3, 0.3), -5.0)
    np.testing.assert_allclose(backwards, [0.3, 0.9, 0.3], atol=1e-8)
    unknown_time, _ = envelope.clamp(np.array([0.4, 0.9, 0.7]), np.full(3, 0.3), float('nan'))
    np.testing.assert_allclose(unknown_time, [0.3, 0.9, 0.3], atol=1e-8)


def test_clamp_takes_a_batch_of_commands():
    envelope = make_envelope()
    commands = np.array([[0.4, -0.9, 0.7], [5.0, 5.0, 5.0]])
    clamped, changed = envelope.clamp(commands, np.zeros((2, 3)), 0.1)
    for row in range(2):
        expected, _ = envelope.clamp(commands[row], np.zeros(3), 0.1)
        np.testing.assert_array_equal(clamped[row], expected)
    assert changed
