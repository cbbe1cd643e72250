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

"""
The Steerer: (observation, goal, time) -> safe command, in one call.

One tick reads as one chain::

    state, goal -> observation -> actor Gaussian (pre-squash)
                -> goal prior (clip mean to the envelope, map to pre-squash)
                -> select weight within the KL budget -> compose
                -> mean or sample -> squash -> unscale to command
                -> fallback if anything was non-finite
                -> the final guard: bounds and rate limits relative to the last command sent
                   and when it was sent; a non-finite result holds that command (flagged)

The node, the evaluation harness and the benchmarks all call ``Steerer.step``. Runtime settings
live in an immutable ``SteeringConfig`` swapped whole by ``update_config``; the
``SafetyEnvelope`` is fixed at construction.

Every command the Steerer returns, steered or safe, is recorded with its time as the reference
of the next one's rate limit. Before the first command the reference is the zero command at an
unknown time (the robot is assumed at rest): a first steered command stays there and the
following ones ramp up. When the Steerer is given a steady clock, the time a rate limit allows
is the smaller of the two clocks' elapsed times, so a forward jump of the node clock (sim time)
does not release a larger step.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any, Callable, Mapping

import numpy as np

from poe_steer_ros.core.compose import Composition, Rule, RULE_TRAITS, WEIGHTED_RULES
from poe_steer_ros.core.gaussian import (ActionScale, DiagGaussian, GaussianDomainError,
                                         squash_to_command, to_pre_squash)
from poe_steer_ros.core.interfaces import Actor, BASE_X, BASE_Y, OutputKind, RobotState, Space
from poe_steer_ros.core.priors import (_enum_field, _number_field, ExternalPrior, GoalPrior,
                                       JointAttractorPrior, PathPrior, PlannedPath,
                                       PoseAttractorPrior, PRIOR_STD_MIN, PriorConfig, PriorType)
from poe_steer_ros.core.safety import Fallback, SafetyEnvelope
from poe_steer_ros.core.selector import fuse_state, Selection

LOG_STD_MIN = -20.0
"""Smallest pre-squash log-std composed (d3rlpy's clamp); keeps precisions finite."""
LOG_STD_MAX = 20.0
"""Largest pre-squash log-std composed; keeps precisions above zero."""
_STD_MAX = math.exp(LOG_STD_MAX)
_ALPHA_BELOW_ONE = 1.0 - 1e-12
"""A ramp from alpha 1 (prior_only) to a rule with no finite weight there (kl) starts here."""

STATE_INDEPENDENT_STD_WARNING = (
    "The actor's std does not depend on the state (IQL- and PPO-style actors): the fusion "
    "weight w = alpha lam_G / lam then follows only the prior's std and never adapts to how "
    'confident the actor is in the situation at hand.')


class ActionMode(str, enum.Enum):
    """Whether the command comes from the composed mean or a sample of the composed Gaussian."""

    MEAN = 'mean'
    SAMPLE = 'sample'


@dataclasses.dataclass(frozen=True)
class SteeringConfig:
    """Runtime steering settings; field names are the ROS parameter names ('.' -> '_')."""

    rule: Rule = Rule.POE
    """The composition rule: frozen, poe, kl, additive or prior_only."""
    alpha: float = 0.5
    """Prior weight of poe and additive, in [0, 1]."""
    beta: float = 1.0
    """KL-regularisation weight of kl, >= 0."""
    kl_budget: float = 0.0
    """
    KL budget in nats. Above 0 the selector lowers the weight per state so that
    KL(composed || actor) stays within it: alpha in [0, min(alpha, alpha_max)] for poe and
    additive (additive in closed form), beta in [0, min(beta, alpha_max / (1 - alpha_max))]
    along the KL-reg path for kl. 0 disables it; frozen and prior_only ignore it.
    """
    alpha_ramp_s: float = 1.0
    """Seconds over which a new weight is reached from the one in force."""
    prior: PriorConfig = dataclasses.field(default_factory=PriorConfig)
    """The goal prior's settings (``prior.*`` parameters)."""
    action_mode: ActionMode = ActionMode.MEAN
    """Command from the composed mean (deterministic) or from a sample of it."""
    seed: int = 0
    """Seed of the sampler used in sample mode."""
    stall_s: float = 5.0
    """
    A planar base that has not come ``stall_progress_m`` closer to its goal for this long is
    stalled (``Telemetry.stalled``), like Nav2's progress checker.
    """
    stall_progress_m: float = 0.1
    """The progress toward the goal (m) that resets the stall clock."""
    stall_alpha: float = 0.0
    """
    While stalled, the prior weight (alpha units) is raised to at least this (capped by the
    envelope's ``alpha_max``); 0 only flags the stall.
    """

    @property
    def weight(self) -> float:
        """Return the rule's own weight: alpha, or beta for kl; 0 for rules without one."""
        name = RULE_TRAITS[self.rule].weight_name
        return 0.0 if name is None else float(getattr(self, name))

    def __post_init__(self) -> None:
        """Coerce enums and numbers and check ranges; raise ValueError naming the field."""
        object.__setattr__(self, 'rule', _enum_field('rule', Rule, self.rule))
        object.__setattr__(self, 'action_mode',
                           _enum_field('action_mode', ActionMode, self.action_mode))
        _number_field('alpha', self, 'alpha', low=0.0, high=1.0)
        _number_field('stall_alpha', self, 'stall_alpha', low=0.0, high=1.0)
        for name in ('beta', 'kl_budget', 'alpha_ramp_s', 'stall_progress_m'):
            _number_field(name, self, name, low=0.0)
        _number_field('stall_s', self, 'stall_s', low=0.0, strict=True)
        if not isinstance(self.prior, PriorConfig):
            raise ValueError(f'prior must be a PriorConfig, got {type(self.prior).__name__}')
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f'seed must be an integer >= 0, got {self.seed!r}')

    def to_parameters(self) -> dict[str, Any]:
        """Return ROS-style parameters: dotted names, enums as strings, tuples as lists."""
        values: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, PriorConfig):
                for prior_field in dataclasses.fields(value):
                    values[f'prior.{prior_field.name}'] = _parameter_value(
                        getattr(value, prior_field.name))
            else:
                values[field.name] = _parameter_value(value)
        return values

    @classmethod
    def from_parameters(cls, values: Mapping[str, Any],
                        base: SteeringConfig | None = None) -> SteeringConfig:
        """
        Return ``base`` (default: the defaults) with the named parameters replaced.

        :raises ValueError: for an unknown parameter name or an invalid value (naming it).
        """
        base = cls() if base is None else base
        top: dict[str, Any] = {}
        prior: dict[str, Any] = {}
        prior_names = {field.name for field in dataclasses.fields(PriorConfig)}
        top_names = {field.name for field in dataclasses.fields(cls)} - {'prior'}
        for name, value in values.items():
            group, _, leaf = name.partition('.')
            if group == 'prior' and leaf in prior_names:
                prior[leaf] = value
            elif name in top_names:
                top[name] = value
            else:
                raise ValueError(f'unknown steering parameter {name!r}')
        return dataclasses.replace(base, prior=dataclasses.replace(base.prior, **prior), **top)


def _parameter_value(value: Any) -> Any:
    """Return a ROS-friendly parameter value (enum -> its string, tuple -> list)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclasses.dataclass(frozen=True)
class Telemetry:
    """
    What one tick did; means and stds are in pre-squash space.

    ``prior_weight`` is ``w`` in ``mu = mu_A + w (mu_G - mu_A)`` per dimension:
    ``alpha lam_G / lam`` for poe, ``beta lam_G / lam`` for kl (the same number at
    ``beta = alpha / (1 - alpha)``), ``alpha`` for additive, 1 for prior_only and 0 for frozen
    or without an active prior.
    """

    rule: Rule
    actor_mean: np.ndarray
    actor_std: np.ndarray
    prior_mean: np.ndarray | None
    """None when no prior took part (frozen rule, expired or missing external prior)."""
    prior_std: np.ndarray | None
    composed_mean: np.ndarray
    composed_std: np.ndarray
    prior_weight: np.ndarray
    alpha: float
    """Prior weight used, in alpha units (beta / (1 + beta) for kl)."""
    beta: float
    """The same weight in beta units (alpha / (1 - alpha); inf for prior_only)."""
    kl_to_actor: float
    """KL(composed || actor) in nats."""
    budget_binding: bool
    """The KL budget, not alpha, set the weight."""
    prior_active: bool
    fallback_used: bool
    """
    Composition was non-finite and the envelope's fallback was sent, or the final guard found
    the command non-finite and held the last one.
    """
    clamped: bool
    """Bounds or rate limits changed the command."""
    stalled: bool = False
    """No progress toward the goal for ``stall_s`` (planar bases only)."""
    path_used: bool = False
    """The path prior followed a planner's path (False: the pose prior stood in)."""


class ProgressMonitor:
    """
    Nav2-style progress checker: whether a planar base still gets closer to its goal.

    The clock restarts whenever the straight-line distance to the goal falls
    ``stall_progress_m`` below the best so far, the goal changes or time runs backwards.
    """

    def __init__(self) -> None:
        """Start with no goal."""
        self._goal: tuple[float, ...] = ()
        self._best_m = math.inf
        self._since_s = math.inf

    def stalled(self, state: RobotState, goal: np.ndarray, now_s: float,
                config: SteeringConfig) -> bool:
        """Take this tick into account; True once the base has stalled, False without a base."""
        if BASE_X not in state or BASE_Y not in state or goal.size not in (2, 3):
            return False
        distance = math.hypot(goal[0] - state[BASE_X], goal[1] - state[BASE_Y])
        key = tuple(goal.tolist())
        if key != self._goal or now_s < self._since_s or \
                distance < self._best_m - config.stall_progress_m:
            self._goal, self._best_m, self._since_s = key, distance, now_s
        return now_s - self._since_s >= config.stall_s


@dataclasses.dataclass(frozen=True)
class _Schedule:
    """The config in force, its prior, and the weight ramp that started when it was set."""

    config: SteeringConfig
    prior: GoalPrior | PathPrior | None
    """None for external priors, which are looked up at each tick."""
    ramp_from: float
    ramp_start_s: float

    def _ramping(self, now_s: float) -> bool:
        """Return whether the weight is still on its way to the configured one."""
        return (self.config.rule in WEIGHTED_RULES and self.config.alpha_ramp_s > 0.0
                and now_s < self.ramp_start_s + self.config.alpha_ramp_s)

    def alpha_at(self, now_s: float) -> float:
        """Return the prior weight in force at ``now_s``, in alpha units (not yet capped)."""
        config = self.config
        target = RULE_TRAITS[config.rule].to_alpha(config.weight)
        if not self._ramping(now_s):
            return target
        progress = max(now_s - self.ramp_start_s, 0.0) / self.config.alpha_ramp_s
        return self.ramp_from + (target - self.ramp_from) * progress

    def weight_at(self, now_s: float) -> float:
        """Return the rule's own weight (alpha, or beta for kl) in force at ``now_s``."""
        if self._ramping(now_s):
            return _weight_from_alpha(self.config.rule, self.alpha_at(now_s))
        return self.config.weight


def _weight_from_alpha(rule: Rule, alpha: float) -> float:
    """Express a prior weight given in alpha units in the rule's own units, finite."""
    weight = RULE_TRAITS[rule].from_alpha(alpha)
    return weight if math.isfinite(weight) else RULE_TRAITS[rule].from_alpha(_ALPHA_BELOW_ONE)


class Steerer:
    """
    Steer a frozen actor toward a goal: one call per control tick.

    :param actor: the frozen actor (``core.interfaces.Actor``); its optional attribute
            ``std_depends_on_state`` (bool) is reported by ``actor_std_is_state_dependent``.
    :param build_observation: ``(state, goal) -> raw observation`` of shape ``(obs_dim,)``.
    :param envelope: the read-only safety envelope (command units, one entry per action).
    :param config: the initial runtime settings.
    :param learned_prior: the model used when ``config.prior.type`` is learned (load it at
            startup; it cannot be chosen later).
    :param steady_clock: a monotonic clock in seconds (``time.monotonic``); when given, rate
            limits allow the smaller of its elapsed time and ``now_s``'s (see the module
            docstring).
    :raises ValueError: if actor, envelope and config do not fit together (the message says how).
    """

    def __init__(self, actor: Actor,
                 build_observation: Callable[[RobotState, np.ndarray], np.ndarray],
                 envelope: SafetyEnvelope, config: SteeringConfig, *,
                 learned_prior: GoalPrior | None = None,
                 steady_clock: Callable[[], float] | None = None) -> None:
        """Check that the parts fit and apply ``config`` at once (no ramp)."""
        if not isinstance(actor, Actor):
            raise ValueError('actor must implement core.interfaces.Actor (obs_dim, action_dim, '
                             'output_kind, action_low, action_high, __call__)')
        if actor.action_dim != envelope.dim:
            raise ValueError(f'envelope has {envelope.dim} command dimensions but the actor '
                             f'{actor.action_dim} action dimensions')
        self._actor = actor
        self._build_observation = build_observation
        self._envelope = envelope
        self._learned_prior = learned_prior
        self._obs_shape = (int(actor.obs_dim),)
        self._dim = int(actor.action_dim)
        self._output_kind = OutputKind(actor.output_kind)
        self._scale = ActionScale(actor.action_low, actor.action_high)
        depends = getattr(actor, 'std_depends_on_state', None)
        self._std_state_dependent = None if depends is None else bool(depends)
        self._external: ExternalPrior | None = None
        self._path: PlannedPath | None = None
        self._progress = ProgressMonitor()
        self._path_used = False
        self._steady_clock = steady_clock
        self._sent = envelope.zero_command()
        """The last command sent (the zero command before the first)."""
        self._sent_at: tuple[float, float] | None = None
        """When it was sent: (``now_s``, steady clock), or None if not known."""
        self._safe_since: tuple[float, float] | None = None
        """When the current run of safe commands began (same clocks), None while steering."""
        self._rng = np.random.default_rng(config.seed)
        self._schedule = _Schedule(config, self._prior_for(config), 0.0, -math.inf)

    @property
    def config(self) -> SteeringConfig:
        """Return the settings in force."""
        return self._schedule.config

    @property
    def envelope(self) -> SafetyEnvelope:
        """Return the read-only safety envelope."""
        return self._envelope

    @property
    def actor_std_is_state_dependent(self) -> bool | None:
        """Return what the actor declares about its std (None if it does not say)."""
        return self._std_state_dependent

    @property
    def std_warning(self) -> str | None:
        """Return a warning to log when the actor declares a state-independent std."""
        return STATE_INDEPENDENT_STD_WARNING if self._std_state_dependent is False else None

    def check_config(self, config: SteeringConfig) -> None:
        """
        Check that ``config`` fits the actor and the envelope, changing nothing.

        :raises ValueError: with the reason ``update_config`` would give.
        """
        self._prior_for(config)

    def update_config(self, new_config: SteeringConfig, now_s: float) -> None:
        """
        Swap in ``new_config`` atomically; the weight ramps over ``new_config.alpha_ramp_s``.

        The ramp runs in alpha units from the weight in force at ``now_s`` to the new one;
        frozen and prior_only have no weight and apply at once. Nothing else is reset.

        :raises ValueError: if the config does not fit the actor or the envelope (the old
            config stays).
        """
        if not isinstance(new_config, SteeringConfig):
            raise ValueError(f'new_config must be a SteeringConfig, got '
                             f'{type(new_config).__name__}')
        prior = self._prior_for(new_config)
        current = self._schedule
        if new_config.seed != current.config.seed:
            self._rng = np.random.default_rng(new_config.seed)
        if new_config.prior.type is not PriorType.EXTERNAL:
            self._external = None  # external priors exist only while they are asked for
        self._schedule = _Schedule(new_config, prior, current.alpha_at(now_s), now_s)

    def set_external_prior(self, mean: np.ndarray, std: np.ndarray, space: Space,
                           expiry_s: float, weight: float | None = None,
                           received_s: float = -math.inf) -> None:
        """
        Hand in a prior Gaussian used while ``prior.type`` is external and ``now_s < expiry_s``.

        It is refused while ``prior.type`` is not external, and dropped when a config without
        it is swapped in. Its validity ends at ``received_s + envelope.external_prior_max_s``
        at the latest.

        :param mean: prior mean, one entry per action dimension, in ``space``.
        :param std: prior std (>= ``PRIOR_STD_MIN``), same shape.
        :param space: Space.COMMAND, Space.ACTION or Space.PRE_SQUASH.
        :param expiry_s: time (``now_s`` clock) from which the prior no longer matters.
        :param weight: prior weight in alpha units while valid, or None for the configured one.
        :param received_s: when it was handed in (``now_s`` clock). A step whose ``now_s`` is
            earlier (the clock jumped back) drops the prior: it belongs to the old timeline.
            Required (finite) when the envelope bounds the validity.
        :raises ValueError: while ``prior.type`` is not external, for a wrong shape, non-finite
            values, std below the floor or a weight outside [0, 1].
        """
        if self.config.prior.type is not PriorType.EXTERNAL:
            raise ValueError(f'prior.type is {self.config.prior.type.value}: external priors '
                             'are ignored (not stored) until it is external')
        longest = self._envelope.external_prior_max_s
        if longest < math.inf:
            if not math.isfinite(received_s):
                raise ValueError('received_s must be a finite time when the envelope bounds '
                                 'external priors')
            expiry_s = min(float(expiry_s), received_s + longest)
        gaussian = DiagGaussian(np.array(mean, dtype=np.float64).reshape(-1),
                                np.array(std, dtype=np.float64).reshape(-1), Space(space))
        if gaussian.dim != self._dim:
            raise ValueError(f'external prior has {gaussian.dim} entries, the actor '
                             f'{self._dim} action dimensions')
        self._external = ExternalPrior(gaussian, float(expiry_s),
                                       None if weight is None else float(weight),
                                       float(received_s))

    def set_path(self, points: np.ndarray, received_s: float) -> None:
        """
        Hand in a planner's path, used while ``prior.type`` is path (the latest one wins).

        :param points: ``(n, 2)`` waypoints ``[x, y]`` (m) in the state's frame, toward the goal;
            none (an empty path: the planner found no way) drops the path.
        :param received_s: when it arrived (``now_s`` clock); its age widens the prior.
        :raises ValueError: for a wrong shape or non-finite points.
        """
        points = np.asarray(points, dtype=np.float64)
        self._path = PlannedPath(points, float(received_s)) if points.size else None

    def safe_command(self, kind: Fallback | str, now_s: float | None = None) -> np.ndarray:
        """
        Return the watchdog's command and record it as sent at ``now_s``: 'zero' or 'hold'.

        'hold' repeats the last command sent, for at most ``envelope.hold_max_s`` of a run of
        safe commands (measured on both clocks, the longer counts; without ``now_s`` and a
        steady clock the run counts as over); then zero. Both bypass rate limits: stopping or
        holding is always allowed. Without ``now_s`` the next step's rate limit counts only the
        steady clock's time (no change at all without one).

        :raises ValueError: for any other kind.
        """
        kind = Fallback(kind)
        if kind is Fallback.ACTOR_ONLY:
            raise ValueError("safe_command kind must be 'zero' or 'hold'; 'actor_only' needs a "
                             'state, use step')
        now = self._times(now_s)
        if self._safe_since is None:
            self._safe_since = now
        if kind is Fallback.HOLD and self._hold_expired(now, self._safe_since):
            kind = Fallback.ZERO
        command = self._envelope.zero_command() if kind is Fallback.ZERO else self._sent
        self._sent, self._sent_at = command, now
        return command.copy()

    def _times(self, now_s: float | None) -> tuple[float, float]:
        """Return (``now_s``, steady clock), NaN where unknown."""
        steady = self._steady_clock
        return (math.nan if now_s is None else float(now_s),
                math.nan if steady is None else steady())

    def _hold_expired(self, now: tuple[float, float], start: tuple[float, float]) -> bool:
        """Return whether the current run of safe commands lasted ``hold_max_s`` or longer."""
        longest = self._envelope.hold_max_s
        if longest == math.inf:
            return False
        lasted = [now[index] - start[index] for index in (0, 1)
                  if math.isfinite(now[index] - start[index])]
        # Either clock may have jumped back; a spell neither clock can measure counts as over.
        return not lasted or not max(lasted) < longest or min(lasted) < 0.0

    def step(self, state: RobotState, goal: np.ndarray,
             now_s: float) -> tuple[np.ndarray, Telemetry]:
        """
        Map (state, goal, now) to a command inside the envelope, plus telemetry.

        The command passes the final guard (see the module docstring): inside the bounds and
        the rate limits relative to the last command sent and its time, and finite.

        :param state: the robot state (canonical keys of ``core.interfaces``).
        :param goal: the goal vector the prior and the observation builder understand.
        :param now_s: current time in seconds (node clock; sim time works).
        :return: The command (command units, finite, inside bounds and rate limits) and telemetry.
        :raises ValueError: if the observation or the prior has the wrong shape.
        :raises KeyError: if the state lacks a key a prior needs.
        """
        schedule = self._schedule
        config = schedule.config
        goal = np.asarray(goal, dtype=np.float64)
        obs = np.asarray(self._build_observation(state, goal), dtype=np.float64)
        if obs.shape != self._obs_shape:
            raise ValueError(f'build_observation returned shape {obs.shape}, the actor needs '
                             f'{self._obs_shape}')
        actor = self._actor_gaussian(*self._actor(obs))
        rule = config.rule
        stalled = self._progress.stalled(state, goal, now_s, config)
        composition = Composition(actor, np.zeros(self._dim))
        selection = Selection(0.0, 0.0, False)
        valid = True
        try:
            prior, weight = self._prior_and_weight(schedule, state, goal, obs, now_s, stalled)
            if prior is not None:
                composition, selection = fuse_state(rule, actor, prior, weight, config.kl_budget,
                                                    max_prior_weight=self._envelope.alpha_max)
        except GaussianDomainError:
            prior, valid = None, False  # a non-finite actor or prior: the fallback below
        if prior is None:
            rule = Rule.FROZEN
        composed = composition.gaussian
        pre_squash = composed.mean
        if config.action_mode is ActionMode.SAMPLE:
            pre_squash = pre_squash + composed.std * self._rng.standard_normal(self._dim)
        command, finite = squash_to_command(pre_squash, self._output_kind, self._scale)
        fallback_used = not (finite and valid)
        if fallback_used:
            command = self._fallback(actor.mean)
        command, clamped, held = self._guard(command, now_s)
        fallback_used = fallback_used or held
        traits = RULE_TRAITS[rule]
        return command.copy(), Telemetry(
            rule=config.rule, actor_mean=actor.mean, actor_std=actor.std,
            prior_mean=None if prior is None else prior.mean,
            prior_std=None if prior is None else prior.std,
            composed_mean=composed.mean, composed_std=composed.std,
            prior_weight=composition.prior_weight, alpha=traits.to_alpha(selection.weight),
            beta=traits.to_beta(selection.weight),
            kl_to_actor=float(selection.kl), budget_binding=bool(selection.binding),
            prior_active=prior is not None,
            fallback_used=fallback_used, clamped=clamped, stalled=stalled,
            path_used=prior is not None and self._path_used)

    def _actor_gaussian(self, mean: Any, log_std: Any) -> DiagGaussian:
        """Return the actor's output as a float64 pre-squash Gaussian with a clipped log-std."""
        mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        log_std = np.asarray(log_std, dtype=np.float64).reshape(-1)
        if mean.size != self._dim or log_std.size != self._dim:
            raise ValueError(f'actor returned mean of {mean.size} and log_std of '
                             f'{log_std.size} entries, expected {self._dim}')
        return DiagGaussian(mean, np.exp(np.minimum(np.maximum(log_std, LOG_STD_MIN),
                                                    LOG_STD_MAX)))

    def _guard(self, command: np.ndarray, now_s: float) -> tuple[np.ndarray, bool, bool]:
        """
        Pass ``command`` through the final guard and record what is sent at ``now_s``.

        :return: The command sent, whether the envelope changed it, and whether it was
            non-finite and the last command is held instead.
        """
        steady = self._steady_clock
        now = (now_s, math.nan if steady is None else steady())
        sent_at = self._sent_at
        elapsed_s = 0.0
        if sent_at is not None:
            # The smaller elapsed time of the two clocks; unknown or NaN allows no change.
            elapsed_s = now_s - sent_at[0]
            steady_s = now[1] - sent_at[1]
            if not elapsed_s <= steady_s:
                elapsed_s = steady_s if steady_s == steady_s else elapsed_s
            if elapsed_s != elapsed_s:
                elapsed_s = 0.0
        command, clamped = self._envelope.clamp(command, self._sent, elapsed_s)
        held = not math.isfinite(sum(command.tolist()))
        if held:
            command, clamped = self._sent, True
        self._sent, self._sent_at, self._safe_since = command, now, None
        return command, clamped, held

    def _prior_and_weight(self, schedule: _Schedule, state: RobotState, goal: np.ndarray,
                          obs: np.ndarray, now_s: float,
                          stalled: bool) -> tuple[DiagGaussian | None, float]:
        """
        Return the active prior in pre-squash space (None if none) and the rule's weight.

        The weight is alpha (beta for kl) in force, or the external prior's own weight, raised
        to ``stall_alpha`` while stalled, capped by the envelope's ``alpha_max``.
        """
        config = schedule.config
        rule = config.rule
        if rule is Rule.FROZEN:
            return None, 0.0
        prior = schedule.prior
        weight = schedule.weight_at(now_s)
        if stalled and rule in WEIGHTED_RULES:
            weight = max(weight, _weight_from_alpha(rule, config.stall_alpha))
        if isinstance(prior, PathPrior):
            self._path_used = prior.uses(self._path, goal, now_s)
            gaussian = prior.gaussian(state, goal, self._path, now_s)
            return self._pre_squash_prior(gaussian), self._capped(rule, weight)
        if prior is None:
            external = self._external
            if external is not None and now_s < external.received_s:
                self._external = external = None  # the clock jumped back past its receipt
            if external is None or not external.is_valid(now_s):
                return None, 0.0
            prior = external
            if external.weight is not None:
                weight = _weight_from_alpha(rule, external.weight)
        return self._pre_squash_prior(prior(state, goal, obs)), self._capped(rule, weight)

    def _capped(self, rule: Rule, weight: float) -> float:
        """Return the rule's weight capped by the envelope's ``alpha_max``."""
        alpha_max = self._envelope.alpha_max
        return min(weight, RULE_TRAITS[rule].from_alpha(alpha_max))

    def _pre_squash_prior(self, gaussian: DiagGaussian) -> DiagGaussian:
        """Clip a command-space mean to the envelope, map to pre-squash, clip the std."""
        if gaussian.mean.shape != (self._dim,):
            raise ValueError(f'the {self.config.prior.type.value} prior returned shape '
                             f'{gaussian.mean.shape}, the actor has {self._dim} action '
                             'dimensions')
        envelope = self._envelope
        return to_pre_squash(gaussian, self._scale, self._output_kind,
                             command_bounds=(envelope.command_low, envelope.command_high),
                             std_bounds=(PRIOR_STD_MIN, _STD_MAX))

    def _fallback(self, actor_mean: np.ndarray) -> np.ndarray:
        """Return the envelope's fallback command for a non-finite composition."""
        fallback = self._envelope.fallback
        if fallback is Fallback.ZERO:
            return self._envelope.zero_command()
        if fallback is Fallback.ACTOR_ONLY:
            command, finite = squash_to_command(actor_mean, self._output_kind, self._scale)
            if finite:
                return command
        return self._sent

    def _prior_for(self, config: SteeringConfig) -> GoalPrior | PathPrior | None:
        """Build the prior ``config`` asks for; raise ValueError if it cannot fit."""
        if config.rule is Rule.PRIOR_ONLY and self._envelope.alpha_max < 1.0:
            raise ValueError(f'rule prior_only ignores the actor, which the envelope forbids '
                             f'(alpha_max={self._envelope.alpha_max} < 1)')
        kind = config.prior.type
        if kind is PriorType.EXTERNAL:
            return None
        if kind is PriorType.LEARNED:
            if self._learned_prior is None:
                raise ValueError('prior.type learned needs a learned prior model loaded at '
                                 'startup')
            return self._learned_prior
        builders: dict[PriorType, Callable[
            [PriorConfig], PoseAttractorPrior | PathPrior | JointAttractorPrior]] = {
                PriorType.POSE: PoseAttractorPrior, PriorType.PATH: PathPrior,
                PriorType.JOINT: JointAttractorPrior}
        prior = builders[kind](config.prior)
        if prior.action_dim != self._dim:
            raise ValueError(f'prior.type {kind.value} commands {prior.action_dim} dimensions '
                             f'but the actor has {self._dim}')
        return prior
