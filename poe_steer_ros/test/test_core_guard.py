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

"""The final guard: every command the Steerer sends, in any sequence of events and clocks."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
from poe_steer_ros.core.compose import Rule
from poe_steer_ros.core.interfaces import BASE_V, BASE_W, BASE_X, BASE_Y, BASE_YAW, OutputKind
from poe_steer_ros.core.numerics import MIN_DT_S
from poe_steer_ros.core.priors import PriorConfig
from poe_steer_ros.core.safety import Fallback, SafetyEnvelope
from poe_steer_ros.core.steerer import Steerer, SteeringConfig

STATE = {BASE_X: 0.0, BASE_Y: 0.0, BASE_YAW: 0.0, BASE_V: 0.0, BASE_W: 0.0}
ACTOR_MEANS = st.floats(-40.0, 40.0) | st.sampled_from([math.nan, math.inf, -math.inf, 1e308])


class Actor:
    """A 2-D actor whose next (mean, log_std) the test sets."""

    obs_dim = 2
    action_dim = 2
    output_kind = OutputKind.TANH_GAUSSIAN

    def __init__(self):
        self.action_low = np.array([-1.0, -2.0])
        self.action_high = np.array([1.0, 2.0])
        self.mean = np.zeros(2)
        self.log_std = np.zeros(2)

    def __call__(self, obs):
        return self.mean, self.log_std


class Clocks:
    """A node clock and a steady clock that a test moves; the node clock may jump."""

    def __init__(self):
        self.node_s = 100.0
        self.steady_s = 0.0

    def steady(self):
        return self.steady_s


EVENTS = st.one_of(
    st.tuples(st.just('step'), st.tuples(ACTOR_MEANS, ACTOR_MEANS),
              st.floats(-20.0, 20.0), st.sampled_from(list(Rule))),
    st.tuples(st.just('safe'), st.sampled_from(['zero', 'hold']), st.booleans()))
CLOCK_STEPS = st.tuples(
    st.floats(0.0, 0.2),  # steady clock
    st.sampled_from([None, -50.0, -0.01, 0.0, 5.0, 1e6]))  # node clock: follows, or jumps


@st.composite
def envelopes(draw):
    """Draw a random envelope inside the actor's bounds: rates, alpha_max, fallback, hold time."""
    low = np.array([draw(st.floats(-1.0, 0.5)), draw(st.floats(-2.0, 1.0))])
    high = low + np.array([draw(st.floats(0.0, 1.0)), draw(st.floats(0.0, 2.0))])
    high = np.minimum(high, [1.0, 2.0])
    rates = np.array([draw(st.floats(0.01, 50.0)), draw(st.floats(0.01, 50.0) | st.just(np.inf))])
    return SafetyEnvelope(low, high, rates, alpha_max=draw(st.floats(0.0, 1.0)),
                          fallback=draw(st.sampled_from(list(Fallback))),
                          hold_max_s=draw(st.floats(0.0, 1.0) | st.just(math.inf)))


@settings(max_examples=300, deadline=None)
@given(envelopes(), st.lists(st.tuples(EVENTS, CLOCK_STEPS), min_size=1, max_size=40))
def test_every_command_is_finite_bounded_and_rate_limited_against_the_last_one_sent(
        envelope, events):
    actor, clocks = Actor(), Clocks()
    steerer = Steerer(actor, lambda state, goal: np.zeros(2), envelope,
                      SteeringConfig(alpha_ramp_s=0.0, prior=PriorConfig(k_linear=5.0)),
                      steady_clock=clocks.steady)
    sent, sent_at = envelope.zero_command(), None
    safe_since = None
    for (kind, *args), (steady_step, node_jump) in events:
        clocks.steady_s += steady_step
        clocks.node_s += steady_step if node_jump is None else node_jump
        now = (clocks.node_s, clocks.steady_s)
        if kind == 'step':
            mean, goal_x, rule = args
            actor.mean = np.array(mean)
            if rule is not Rule.PRIOR_ONLY or envelope.alpha_max == 1.0:
                steerer.update_config(SteeringConfig(rule=rule, alpha_ramp_s=0.0), now[0])
            command, telemetry = steerer.step(STATE, np.array([goal_x, 0.0]), now[0])
            known = [] if sent_at is None else [
                now[index] - sent_at[index] for index in (0, 1)
                if not math.isnan(now[index] - sent_at[index])]
            elapsed = min(known) if known else 0.0
            allowed = envelope.max_rate_per_s * max(elapsed, MIN_DT_S)
            assert np.all(np.abs(command - sent) <= allowed * (1 + 1e-12) + 1e-12)
            assert np.all(np.abs(telemetry.prior_weight) <= envelope.alpha_max + 1e-12) or (
                telemetry.fallback_used)
            safe_since = None
        else:
            safe_kind, timed = args
            safe_since = safe_since or now
            command = steerer.safe_command(safe_kind, now[0] if timed else None)
            lasted = max(now[0] - safe_since[0], now[1] - safe_since[1])
            if safe_kind == 'zero' or not timed or not (
                    0.0 <= min(now[0] - safe_since[0], now[1] - safe_since[1])
                    and lasted < envelope.hold_max_s):
                if not (safe_kind == 'hold' and envelope.hold_max_s == math.inf):
                    np.testing.assert_array_equal(command, envelope.zero_command()) \
                        if safe_kind == 'zero' else None
            if safe_kind == 'hold' and envelope.hold_max_s == math.inf:
                np.testing.assert_array_equal(command, sent)
            now = now if timed else (math.nan, now[1])
        assert np.all(np.isfinite(command))
        assert np.all(command >= envelope.command_low) and np.all(command <= envelope.command_high)
        sent, sent_at = command, now


def _moving_then(envelope_changes, *, rate=2.0):
    """Return a steerer that has ramped up to a moving command at t = 0..1 s (20 Hz)."""
    actor, clocks = Actor(), Clocks()
    envelope = SafetyEnvelope([-1.0, -2.0], [1.0, 2.0], [rate, rate], **envelope_changes)
    steerer = Steerer(actor, lambda state, goal: np.zeros(2), envelope,
                      SteeringConfig(rule=Rule.FROZEN), steady_clock=clocks.steady)
    actor.mean = np.array([2.0, 2.0])
    for _ in range(21):
        command, _ = steerer.step(STATE, np.zeros(2), clocks.node_s)
        clocks.node_s += 0.05
        clocks.steady_s += 0.05
    return steerer, clocks, command


def test_resume_after_a_safe_command_is_rate_limited_from_it():
    steerer, clocks, moving = _moving_then({})
    assert moving[0] > 0.5
    np.testing.assert_array_equal(steerer.safe_command('zero', clocks.node_s), [0.0, 0.0])
    clocks.node_s += 0.05
    clocks.steady_s += 0.05
    command, telemetry = steerer.step(STATE, np.zeros(2), clocks.node_s)
    np.testing.assert_allclose(command, [0.1, 0.1])  # 2 /s for 0.05 s from the stop
    assert telemetry.clamped


def test_a_forward_jump_of_the_node_clock_releases_no_larger_step():
    steerer, clocks, moving = _moving_then({})
    steerer.safe_command('zero', clocks.node_s)
    clocks.node_s += 3600.0
    clocks.steady_s += 0.05
    command, _ = steerer.step(STATE, np.zeros(2), clocks.node_s)
    np.testing.assert_allclose(command, [0.1, 0.1])


def test_the_first_command_starts_from_rest():
    actor = Actor()
    actor.mean = np.array([2.0, 2.0])
    steerer = Steerer(actor, lambda state, goal: np.zeros(2),
                      SafetyEnvelope([-1.0, -2.0], [1.0, 2.0], [2.0, 2.0]),
                      SteeringConfig(rule=Rule.FROZEN))
    np.testing.assert_allclose(steerer.step(STATE, np.zeros(2), 5.0)[0], [0.0, 0.0], atol=1e-8)
    np.testing.assert_allclose(steerer.step(STATE, np.zeros(2), 5.05)[0], [0.1, 0.1])


def test_hold_turns_to_zero_after_its_longest_time():
    steerer, clocks, moving = _moving_then({'hold_max_s': 0.5})
    for _ in range(10):
        np.testing.assert_array_equal(steerer.safe_command('hold', clocks.node_s), moving)
        clocks.node_s += 0.05
        clocks.steady_s += 0.05
    np.testing.assert_array_equal(steerer.safe_command('hold', clocks.node_s), [0.0, 0.0])
    # A clock jump back cannot make the spell young again.
    clocks.node_s -= 100.0
    np.testing.assert_array_equal(steerer.safe_command('hold', clocks.node_s), [0.0, 0.0])


def test_a_non_finite_command_holds_the_last_one_flagged():
    steerer, clocks, moving = _moving_then({'fallback': Fallback.ACTOR_ONLY})
    steerer._actor.mean = np.array([math.nan, 0.0])
    command, telemetry = steerer.step(STATE, np.zeros(2), clocks.node_s)
    assert telemetry.fallback_used
    np.testing.assert_array_equal(command, moving)
