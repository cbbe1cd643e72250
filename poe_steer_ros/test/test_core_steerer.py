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

"""The Steerer pipeline: rules end to end, safety, fallbacks, runtime config, telemetry."""

import dataclasses
import math

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
from poe_steer_ros.core.compose import alpha_to_beta, Rule
from poe_steer_ros.core.gaussian import ActionScale, DiagGaussian
from poe_steer_ros.core.interfaces import (Actor, BASE_V, BASE_W, BASE_X, BASE_Y, BASE_YAW,
                                           OutputKind, Space)
from poe_steer_ros.core.priors import LearnedPrior, PriorConfig
from poe_steer_ros.core.safety import Fallback, SafetyEnvelope
from poe_steer_ros.core.steerer import (ActionMode, STATE_INDEPENDENT_STD_WARNING, Steerer,
                                        SteeringConfig)
import pytest
import torch

LOW = np.array([-0.5, -1.0])
HIGH = np.array([0.5, 1.0])
STATE = {BASE_X: 0.0, BASE_Y: 0.0, BASE_YAW: 0.0, BASE_V: 0.0, BASE_W: 0.0}
NEAR_GOAL = np.array([0.4, 0.3])


class ScriptedActor:
    """A frozen Gaussian actor whose (mean, log_std) a test sets; linear in obs by default."""

    obs_dim = 3
    action_dim = 2

    def __init__(self, output_kind=OutputKind.TANH_GAUSSIAN, std_depends_on_state=None):
        self.output_kind = output_kind
        self.action_low, self.action_high = LOW.copy(), HIGH.copy()
        self.weights = np.array([[0.3, -0.2, 0.1], [0.0, 0.4, -0.3]])
        self.mean = None
        self.log_std = np.array([-1.0, -0.7])
        if std_depends_on_state is not None:
            self.std_depends_on_state = std_depends_on_state

    def __call__(self, obs):
        mean = self.weights @ obs if self.mean is None else self.mean
        return mean, self.log_std


def observe(state, goal):
    return np.array([goal[0] - state[BASE_X], goal[1] - state[BASE_Y], state[BASE_V]])


def envelope(**changes) -> SafetyEnvelope:
    fields = {'command_low': LOW, 'command_high': HIGH, 'max_rate_per_s': [np.inf, np.inf]}
    fields.update(changes)
    return SafetyEnvelope(**fields)


def steerer(config=None, actor=None, **envelope_changes) -> Steerer:
    return Steerer(actor or ScriptedActor(), observe, envelope(**envelope_changes),
                   config or SteeringConfig(alpha_ramp_s=0.0))


def actor_command(actor: ScriptedActor, state=STATE, goal=NEAR_GOAL) -> np.ndarray:
    mean, _ = actor(observe(state, goal))
    return ActionScale(LOW, HIGH).to_command(np.tanh(mean))


def test_actor_satisfies_the_protocol():
    assert isinstance(ScriptedActor(), Actor)


def test_frozen_rule_sends_the_actor_command():
    actor = ScriptedActor()
    command, telemetry = steerer(SteeringConfig(rule='frozen'), actor).step(STATE, NEAR_GOAL,
                                                                            0.0)
    np.testing.assert_allclose(command, actor_command(actor), rtol=1e-12)
    assert not telemetry.prior_active and telemetry.prior_mean is None
    assert telemetry.alpha == 0.0 and telemetry.kl_to_actor == 0.0
    np.testing.assert_array_equal(telemetry.prior_weight, 0.0)


def test_alpha_zero_equals_frozen_and_alpha_one_equals_the_prior():
    actor = ScriptedActor()
    frozen, _ = steerer(SteeringConfig(rule='frozen'), actor).step(STATE, NEAR_GOAL, 0.0)
    poe_zero, telemetry = steerer(SteeringConfig(alpha=0.0, alpha_ramp_s=0.0), actor).step(
        STATE, NEAR_GOAL, 0.0)
    np.testing.assert_array_equal(poe_zero, frozen)
    assert telemetry.prior_active
    poe_one, one = steerer(SteeringConfig(alpha=1.0, alpha_ramp_s=0.0), actor).step(
        STATE, NEAR_GOAL, 0.0)
    prior_only, only = steerer(SteeringConfig(rule='prior_only'), actor).step(
        STATE, NEAR_GOAL, 0.0)
    np.testing.assert_allclose(poe_one, prior_only, atol=1e-12)
    # Near the goal the pose prior is inside the bounds, so prior_only sends its mean.
    np.testing.assert_allclose(prior_only, ActionScale(LOW, HIGH).to_command(
        np.tanh(only.prior_mean)), atol=1e-12)
    assert only.alpha == 1.0 and math.isinf(only.beta)


def test_telemetry_reports_the_precision_weighted_prior_weight():
    _, telemetry = steerer(SteeringConfig(alpha=0.3, alpha_ramp_s=0.0)).step(
        STATE, NEAR_GOAL, 0.0)
    ratio = (telemetry.actor_std / telemetry.prior_std) ** 2
    np.testing.assert_allclose(telemetry.prior_weight, 0.3 * ratio / (0.7 + 0.3 * ratio))
    np.testing.assert_allclose(
        telemetry.composed_mean,
        telemetry.actor_mean + telemetry.prior_weight * (telemetry.prior_mean
                                                         - telemetry.actor_mean))
    assert telemetry.beta == pytest.approx(alpha_to_beta(0.3))


FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, 1e300, -1e300, 1e-300]))


class _ScriptedPrior:
    """A learned-prior stand-in returning whatever Gaussian a test sets, in pre-squash space."""

    space = Space.PRE_SQUASH

    def __init__(self):
        self.gaussian = DiagGaussian(np.zeros(2), np.ones(2))

    def __call__(self, state, goal, obs):
        return self.gaussian


@pytest.mark.filterwarnings('ignore::RuntimeWarning')
@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, 2, elements=FLOATS), hnp.arrays(np.float64, 2, elements=FLOATS),
       hnp.arrays(np.float64, 2, elements=FLOATS), hnp.arrays(np.float64, 2, elements=FLOATS),
       st.sampled_from(list(Rule)), st.sampled_from(list(Fallback)),
       st.sampled_from(list(OutputKind)), st.floats(0.0, 0.5))
def test_extreme_inputs_never_yield_a_non_finite_command(actor_mean, actor_log_std,
                                                         prior_mean, prior_log_std, rule,
                                                         fallback, kind, kl_budget):
    actor = ScriptedActor(kind)
    prior = _ScriptedPrior()
    config = SteeringConfig(rule=rule, kl_budget=kl_budget, alpha_ramp_s=0.0,
                            prior=PriorConfig(type='learned'))
    rates = np.array([2.0, 4.0])
    envelope_ = envelope(max_rate_per_s=rates, fallback=fallback)
    guarded = Steerer(actor, observe, envelope_, config, learned_prior=prior)
    previous, _ = guarded.step(STATE, NEAR_GOAL, 0.0)
    actor.mean, actor.log_std = actor_mean, actor_log_std
    with np.errstate(all='ignore'):
        prior.gaussian = DiagGaussian(prior_mean, np.exp(prior_log_std))
    command, telemetry = guarded.step(STATE, NEAR_GOAL, 0.01)
    assert np.all(np.isfinite(command))
    assert np.all(command >= LOW) and np.all(command <= HIGH)
    assert np.all(np.abs(command - previous) <= rates * 0.01 + 1e-12)
    if telemetry.fallback_used and fallback is Fallback.HOLD:
        np.testing.assert_array_equal(command, previous)


def _nan_prior_steerer(fallback: Fallback, actor: ScriptedActor) -> Steerer:
    prior = _ScriptedPrior()
    prior.gaussian = DiagGaussian(np.array([np.nan, 0.0]), np.ones(2))
    return Steerer(actor, observe, envelope(fallback=fallback),
                   SteeringConfig(alpha_ramp_s=0.0, prior=PriorConfig(type='learned')),
                   learned_prior=prior)


def test_fallbacks_hold_zero_and_actor_only():
    actor = ScriptedActor()
    hold = _nan_prior_steerer(Fallback.HOLD, actor)
    first, telemetry = hold.step(STATE, NEAR_GOAL, 0.0)
    assert telemetry.fallback_used
    np.testing.assert_array_equal(first, [0.0, 0.0])  # nothing sent yet: hold the zero command
    zero, _ = _nan_prior_steerer(Fallback.ZERO, actor).step(STATE, NEAR_GOAL, 0.0)
    np.testing.assert_array_equal(zero, [0.0, 0.0])
    actor_only = _nan_prior_steerer(Fallback.ACTOR_ONLY, actor)
    command, _ = actor_only.step(STATE, NEAR_GOAL, 0.0)
    np.testing.assert_allclose(command, actor_command(actor))
    actor.mean = np.array([np.nan, 0.1])
    held, telemetry = actor_only.step(STATE, NEAR_GOAL, 0.1)
    assert telemetry.fallback_used
    np.testing.assert_array_equal(held, command)


@settings(max_examples=40, deadline=None)
@given(st.lists(hnp.arrays(np.float64, 2, elements=st.floats(-3.0, 3.0)), min_size=2,
                max_size=8), st.floats(0.001, 0.1))
def test_rate_limits_hold_across_steps(means, dt_s):
    actor = ScriptedActor()
    rates = np.array([0.5, 1.0])
    limited = steerer(actor=actor, max_rate_per_s=rates)
    previous = None
    for index, mean in enumerate(means):
        actor.mean = mean
        command, telemetry = limited.step(STATE, NEAR_GOAL, index * dt_s)
        if previous is not None:
            assert np.all(np.abs(command - previous) <= rates * dt_s + 1e-12)
        previous = command


def test_alpha_ramps_from_the_weight_in_force_and_nothing_else_resets():
    ramped = steerer(SteeringConfig(rule='frozen'))
    ramped.step(STATE, NEAR_GOAL, 0.0)
    ramped.update_config(SteeringConfig(alpha=0.8, alpha_ramp_s=1.0), now_s=10.0)
    alphas = [ramped.step(STATE, NEAR_GOAL, now)[1].alpha for now in (10.0, 10.25, 10.5, 12.0)]
    np.testing.assert_allclose(alphas, [0.0, 0.2, 0.4, 0.8])
    ramped.update_config(SteeringConfig(rule='kl', beta=3.0, alpha_ramp_s=2.0), now_s=20.0)
    _, halfway = ramped.step(STATE, NEAR_GOAL, 21.0)
    assert halfway.alpha == pytest.approx(0.775)
    assert halfway.beta == pytest.approx(alpha_to_beta(0.775))
    _, settled = ramped.step(STATE, NEAR_GOAL, 22.0)
    assert settled.beta == 3.0
    # A change in the middle of a ramp starts from the weight then in force.
    ramped.update_config(SteeringConfig(alpha=0.2, alpha_ramp_s=1.0), now_s=22.0)
    ramped.update_config(SteeringConfig(alpha=0.6, alpha_ramp_s=1.0), now_s=22.5)
    assert ramped.step(STATE, NEAR_GOAL, 22.5)[1].alpha == pytest.approx(0.475)


def test_envelope_caps_every_rule_and_forbids_prior_only():
    capped = steerer(SteeringConfig(alpha=0.9, alpha_ramp_s=0.0), alpha_max=0.5)
    assert capped.step(STATE, NEAR_GOAL, 0.0)[1].alpha == 0.5
    capped.update_config(SteeringConfig(rule='kl', beta=10.0, alpha_ramp_s=0.0), 1.0)
    assert capped.step(STATE, NEAR_GOAL, 1.0)[1].beta == pytest.approx(1.0)
    before = capped.config
    with pytest.raises(ValueError, match='prior_only'):
        capped.update_config(SteeringConfig(rule='prior_only'), 2.0)
    assert capped.config is before
    with pytest.raises(ValueError, match='prior_only'):
        steerer(SteeringConfig(rule='prior_only'), alpha_max=0.9)


def test_kl_budget_limits_the_composed_policy_per_state():
    far_goal = np.array([0.3, -0.4])
    budgeted = steerer(SteeringConfig(alpha=1.0, kl_budget=0.05, alpha_ramp_s=0.0))
    _, telemetry = budgeted.step(STATE, far_goal, 0.0)
    assert telemetry.budget_binding
    assert telemetry.kl_to_actor <= 0.05
    assert telemetry.kl_to_actor == pytest.approx(0.05, rel=1e-6)
    _, unlimited = steerer(SteeringConfig(alpha=1.0, alpha_ramp_s=0.0)).step(
        STATE, far_goal, 0.0)
    assert unlimited.kl_to_actor > 0.05 and not unlimited.budget_binding


def test_external_prior_matters_only_until_it_expires():
    actor = ScriptedActor()
    external = steerer(SteeringConfig(alpha=0.5, alpha_ramp_s=0.0,
                                      prior=PriorConfig(type='external')), actor)
    frozen = actor_command(actor)
    command, telemetry = external.step(STATE, NEAR_GOAL, 0.0)
    assert not telemetry.prior_active
    np.testing.assert_allclose(command, frozen)
    external.set_external_prior([0.4, -0.5], [0.05, 0.05], Space.COMMAND, expiry_s=5.0,
                                weight=0.9)
    command, telemetry = external.step(STATE, NEAR_GOAL, 4.9)
    assert telemetry.prior_active and telemetry.alpha == 0.9
    assert np.linalg.norm(command - np.array([0.4, -0.5])) < np.linalg.norm(
        frozen - np.array([0.4, -0.5]))
    command, telemetry = external.step(STATE, NEAR_GOAL, 5.0)
    assert not telemetry.prior_active
    np.testing.assert_allclose(command, frozen)
    external.set_external_prior([0.4, -0.5], [0.05, 0.05], Space.COMMAND, expiry_s=15.0,
                                received_s=10.0)
    assert external.step(STATE, NEAR_GOAL, 12.0)[1].prior_active
    # The clock jumps back (a simulator restart): the prior belongs to the old timeline.
    assert not external.step(STATE, NEAR_GOAL, 1.0)[1].prior_active
    assert not external.step(STATE, NEAR_GOAL, 12.0)[1].prior_active
    with pytest.raises(ValueError, match='3 entries'):
        external.set_external_prior([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], Space.COMMAND, 9.0)
    with pytest.raises(ValueError, match='std >= 1e-06'):
        external.set_external_prior([0.0, 0.0], [1.0, 0.0], Space.PRE_SQUASH, 9.0)


def test_safe_command_zero_and_hold():
    watched = steerer(SteeringConfig(alpha_ramp_s=0.0), max_rate_per_s=[0.1, 0.1])
    np.testing.assert_array_equal(watched.safe_command('hold'), [0.0, 0.0])
    command, _ = watched.step(STATE, NEAR_GOAL, 0.0)
    np.testing.assert_array_equal(watched.safe_command(Fallback.HOLD), command)
    np.testing.assert_array_equal(watched.safe_command('zero'), [0.0, 0.0])
    np.testing.assert_array_equal(watched.safe_command('hold'), [0.0, 0.0])
    with pytest.raises(ValueError, match="'zero' or 'hold'"):
        watched.safe_command('actor_only')


def test_std_awareness_is_reported():
    assert steerer(actor=ScriptedActor(std_depends_on_state=False)).std_warning == \
        STATE_INDEPENDENT_STD_WARNING
    aware = steerer(actor=ScriptedActor(std_depends_on_state=True))
    assert aware.actor_std_is_state_dependent is True and aware.std_warning is None
    silent = steerer()
    assert silent.actor_std_is_state_dependent is None and silent.std_warning is None


def test_sample_mode_is_seeded_and_reseeds_on_a_new_seed():
    config = SteeringConfig(action_mode='sample', seed=7, alpha_ramp_s=0.0)

    def commands(sampler: Steerer) -> np.ndarray:
        return np.array([sampler.step(STATE, NEAR_GOAL, 0.1 * k)[0] for k in range(5)])

    first, second = commands(steerer(config)), commands(steerer(config))
    np.testing.assert_array_equal(first, second)
    assert np.ptp(first, axis=0).max() > 0.0
    reseeded = steerer(config)
    reseeded.update_config(dataclasses.replace(config, seed=8), 0.0)
    assert not np.array_equal(commands(reseeded), first)


def test_gaussian_actors_clip_instead_of_squashing():
    actor = ScriptedActor(OutputKind.GAUSSIAN)
    actor.mean = np.array([0.5, -3.0])
    command, _ = steerer(SteeringConfig(rule='frozen'), actor).step(STATE, NEAR_GOAL, 0.0)
    np.testing.assert_allclose(command, [0.25, -1.0])


class _LinearPrior(torch.nn.Module):
    """A learned prior whose pre-squash mean is a tenth of the goal."""

    def forward(self, obs: torch.Tensor, goal: torch.Tensor):
        return goal[:, :2] * 0.1, torch.full_like(goal[:, :2], -1.0)


def test_learned_prior_is_composed_in_pre_squash_space():
    learned = Steerer(ScriptedActor(), observe, envelope(),
                      SteeringConfig(rule='prior_only', prior=PriorConfig(type='learned')),
                      learned_prior=LearnedPrior(_LinearPrior()))
    _, telemetry = learned.step(STATE, NEAR_GOAL, 0.0)
    np.testing.assert_allclose(telemetry.composed_mean, NEAR_GOAL * 0.1, rtol=1e-6)


@pytest.mark.parametrize('changes, field', [
    ({'alpha': 1.5}, 'alpha'),
    ({'beta': -1.0}, 'beta'),
    ({'kl_budget': math.nan}, 'kl_budget'),
    ({'alpha_ramp_s': -1.0}, 'alpha_ramp_s'),
    ({'rule': 'blend'}, 'rule'),
    ({'action_mode': 'greedy'}, 'action_mode'),
    ({'seed': -1}, 'seed'),
    ({'seed': 1.5}, 'seed'),
    ({'prior': {'type': 'pose'}}, 'prior'),
])
def test_config_rejects_bad_values_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        SteeringConfig(**changes)


def test_config_round_trips_through_ros_parameters():
    config = SteeringConfig(rule='kl', beta=2.0, prior=PriorConfig(type='joint',
                                                                   joint_names=('a', 'b')))
    parameters = config.to_parameters()
    assert parameters['rule'] == 'kl' and parameters['prior.type'] == 'joint'
    assert parameters['prior.joint_names'] == ['a', 'b']
    assert SteeringConfig.from_parameters(parameters) == config
    changed = SteeringConfig.from_parameters({'alpha': 0.2, 'prior.k_linear': 2.0}, config)
    assert changed.alpha == 0.2 and changed.prior.k_linear == 2.0 and changed.beta == 2.0
    with pytest.raises(ValueError, match="unknown steering parameter 'prior.gain'"):
        SteeringConfig.from_parameters({'prior.gain': 1.0})
    with pytest.raises(ValueError, match='alpha'):
        SteeringConfig.from_parameters({'alpha': 2.0})
    assert SteeringConfig.from_parameters({}).action_mode is ActionMode.MEAN


def test_parts_that_do_not_fit_are_rejected():
    actor = ScriptedActor()
    with pytest.raises(ValueError, match='command dimensions'):
        Steerer(actor, observe, SafetyEnvelope([-1.0], [1.0], [1.0]), SteeringConfig())
    with pytest.raises(ValueError, match='learned prior model'):
        steerer(SteeringConfig(prior=PriorConfig(type='learned')))
    with pytest.raises(ValueError, match='prior.type joint commands 1 dimensions'):
        steerer(SteeringConfig(prior=PriorConfig(type='joint', joint_names=('a',))))
    with pytest.raises(ValueError, match='Actor'):
        Steerer(object(), observe, envelope(), SteeringConfig())
    broken = Steerer(actor, lambda state, goal: np.zeros(4), envelope(), SteeringConfig())
    with pytest.raises(ValueError, match='build_observation returned shape'):
        broken.step(STATE, NEAR_GOAL, 0.0)


def test_path_prior_follows_the_latest_path_and_stands_in_with_the_pose_prior():
    config = SteeringConfig(alpha=0.5, alpha_ramp_s=0.0, prior=PriorConfig(type='path'))
    path = steerer(config)
    pose = steerer(dataclasses.replace(config, prior=PriorConfig(type='pose')))
    goal = np.array([0.0, 1.0])
    command, telemetry = path.step(STATE, goal, 0.0)
    assert telemetry.prior_active and not telemetry.path_used
    np.testing.assert_allclose(command, pose.step(STATE, goal, 0.0)[0])
    # A path that heads east first: the prior no longer turns left toward the goal.
    path.set_path([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], received_s=0.1)
    _, telemetry = path.step(STATE, goal, 0.2)
    assert telemetry.path_used
    assert telemetry.prior_mean[1] < pose.step(STATE, goal, 0.2)[1].prior_mean[1]
    path.set_path(np.empty((0, 2)), received_s=0.3)  # the planner found no way
    assert not path.step(STATE, goal, 0.35)[1].path_used
    with pytest.raises(ValueError, match='finite waypoints'):
        path.set_path([[0.0, math.inf]], received_s=0.4)


def test_a_stall_is_flagged_and_may_raise_the_prior_weight_within_alpha_max():
    config = SteeringConfig(alpha=0.2, alpha_ramp_s=0.0, stall_s=2.0, stall_alpha=0.9)
    stuck = steerer(config, alpha_max=0.8)
    flags = [stuck.step(STATE, NEAR_GOAL, t)[1] for t in (0.0, 1.0, 1.99, 2.0, 3.0)]
    assert [t.stalled for t in flags] == [False, False, False, True, True]
    assert flags[0].alpha == pytest.approx(0.2) and flags[-1].alpha == pytest.approx(0.8)
    moved = {**STATE, BASE_X: 0.3}  # 0.3 m closer: progress restarts the clock
    assert not stuck.step(moved, NEAR_GOAL, 3.1)[1].stalled
    assert not stuck.step(moved, np.array([0.4, -0.3]), 5.2)[1].stalled  # a new goal too
    flag_only = steerer(dataclasses.replace(config, stall_alpha=0.0))
    telemetry = [flag_only.step(STATE, NEAR_GOAL, t)[1] for t in (0.0, 2.5)][-1]
    assert telemetry.stalled and telemetry.alpha == pytest.approx(0.2)
