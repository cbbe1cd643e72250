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

"""Random GoalPrior messages: refused, or held within the envelope's weight and time limits."""

from __future__ import annotations

import math

from builtin_interfaces.msg import Time
from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
from poe_steer_msgs.msg import GoalPrior
from poe_steer_ros.core.interfaces import BASE_V, BASE_W, BASE_X, BASE_Y, BASE_YAW, OutputKind
from poe_steer_ros.core.priors import PriorConfig, PriorType
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.steerer import Steerer, SteeringConfig
from poe_steer_ros.ros import adapters

STATE = {BASE_X: 0.0, BASE_Y: 0.0, BASE_YAW: 0.0, BASE_V: 0.0, BASE_W: 0.0}
NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.floats(-1e-300, 1e-300)
PRIOR_MAX_S = 2.0


class Actor:
    obs_dim = 2
    action_dim = 2
    output_kind = OutputKind.TANH_GAUSSIAN
    action_low = np.array([-1.0, -2.0])
    action_high = np.array([1.0, 2.0])

    def __call__(self, obs):
        return np.array([0.2, -0.1]), np.array([-1.0, -0.5])


@st.composite
def goal_priors(draw) -> GoalPrior:
    """Draw GoalPrior messages: any numbers, std or covariance, any weight and expiry."""
    pair = st.lists(NUMBERS | st.floats(-5.0, 5.0), min_size=2, max_size=2)
    message = GoalPrior(space=draw(st.sampled_from([GoalPrior.SPACE_COMMAND,
                                                    GoalPrior.SPACE_PRE_SQUASH, 7])),
                        mean=draw(pair), weight=draw(NUMBERS | st.floats(0.0, 1.0)))
    if draw(st.booleans()):
        message.std = draw(pair)
    else:
        message.covariance = draw(st.lists(NUMBERS | st.floats(1e-3, 4.0), min_size=4,
                                           max_size=4))
    message.expiry = Time(sec=draw(st.integers(0, 2**31 - 1)),
                          nanosec=draw(st.integers(0, 2**32 - 1)))
    return message


@settings(max_examples=400, deadline=None)
@given(goal_priors(), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 100.0),
       st.sampled_from([PriorType.POSE, PriorType.EXTERNAL]))
def test_any_goal_prior_is_refused_or_bounded(message, alpha, alpha_max, now_s, prior_type):
    envelope = SafetyEnvelope([-1.0, -2.0], [1.0, 2.0], [np.inf, np.inf], alpha_max=alpha_max,
                              external_prior_max_s=PRIOR_MAX_S)
    steerer = Steerer(Actor(), lambda state, goal: np.zeros(2), envelope,
                      SteeringConfig(alpha=alpha, alpha_ramp_s=0.0,
                                     prior=PriorConfig(type=prior_type)))
    try:
        mean, std, space, weight = adapters.goal_prior_to_gaussian(message, 2)
        expiry_s = adapters.time_to_seconds(message.expiry)
        steerer.set_external_prior(mean, std, space, expiry_s, weight, now_s)
    except ValueError:  # MessageError too
        assert not (message.expiry.nanosec < 1_000_000_000 and prior_type is PriorType.EXTERNAL
                    and all(map(math.isfinite, message.mean)) and message.space != 7
                    and (message.weight != message.weight or 0.0 <= message.weight <= 1.0)
                    and _std_usable(message))
        stored = False
    else:
        assert prior_type is PriorType.EXTERNAL and message.expiry.nanosec < 1_000_000_000
        stored = True
    for later_s in (now_s, now_s + 0.5 * PRIOR_MAX_S, now_s + PRIOR_MAX_S + 1e-6):
        command, telemetry = steerer.step(STATE, np.array([1.0, 0.5]), later_s)
        assert np.all(np.isfinite(command))
        assert np.all(telemetry.prior_weight <= alpha_max + 1e-12)
        if telemetry.prior_active and prior_type is PriorType.EXTERNAL:
            assert stored and later_s < now_s + PRIOR_MAX_S


def _std_usable(message: GoalPrior) -> bool:
    """Return whether the message's std (or covariance diagonal) is finite and >= 1e-6."""
    if len(message.std) and len(message.covariance):
        return False
    if len(message.covariance):
        covariance = np.asarray(message.covariance, dtype=float).reshape(2, 2)
        if not np.all(np.isfinite(covariance)) or not np.allclose(covariance, covariance.T):
            return False
        if np.linalg.eigvalsh(covariance).min() <= 0.0:
            return False
        std = np.sqrt(np.diag(covariance))
    else:
        std = np.asarray(message.std, dtype=float)
    return bool(np.all(np.isfinite(std)) and np.all(std >= 1e-6))
