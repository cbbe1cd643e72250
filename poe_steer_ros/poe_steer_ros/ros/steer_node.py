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
The steering node ``poe_steer``: state and goals in, steered commands out.

One class of logic owns the ROS side only: parameters, subscriptions, publishers, timers and
QoS. Everything numeric happens in ``core.steerer.Steerer``, called once per control tick with
the latest state; messages are converted in ``ros.adapters``. Callbacks store what arrived and
return; the control timer does the work. Actors that observe more than the state topic (a range
scan) get their other inputs from the topics ``ros.inputs`` names, assembled by its rule; actors
whose bundle holds a support model get their std widened off support (``core.support``).

Two fronts share that logic: ``SteerNode`` (``steer_node``), a plain node that loads its actor
and steers as soon as it starts, and ``ManagedSteerNode`` (``steer_lifecycle_node``), a
lifecycle node whose transitions a lifecycle manager or ``ros2 lifecycle set`` drives:
configure loads, verifies and warms up the actor; activate starts commanding; deactivate sends
the safe command and stops; cleanup releases the actor; shutdown does both.
"""

from __future__ import annotations

import array
import collections
import dataclasses
import math
from pathlib import Path
import time
from typing import Any, Callable, Sequence, TYPE_CHECKING

from ament_index_python.packages import get_package_share_directory
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Path as PlannerPath
import numpy as np
from poe_steer_msgs.msg import GoalPrior, SteeringStatus
from poe_steer_ros.core import per_state
from poe_steer_ros.core.actor import FrozenActor, load_actor
from poe_steer_ros.core.priors import goal_problem, LearnedPrior
from poe_steer_ros.core.safety import check_limit_names, SafetyEnvelope, StateFreshness
from poe_steer_ros.core.steerer import Steerer, SteeringConfig, Telemetry
from poe_steer_ros.core.support import SupportAwareActor
from poe_steer_ros.ros import adapters
from poe_steer_ros.ros.inputs import InputAssembly, InputSource, required_sources, STATE_INPUT
from poe_steer_ros.ros.node_main import run_node, StartupError
from poe_steer_ros.ros.parameters import declare, plain, SPECS, steering_config, Trigger
from rcl_interfaces.msg import SetParametersResult
from rclpy.duration import Duration
from rclpy.exceptions import ParameterNotDeclaredException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data, QoSProfile
from rclpy.qos_overriding_options import QoSOverridingOptions
from std_srvs import srv

NODE_NAME = 'poe_steer'
PACKAGE = 'poe_steer_ros'
DEFAULT_MANIFEST = Path('models') / 'default_actor.pt.yaml'
"""Relative to the package's share folder."""
DIAGNOSTICS_PERIOD_S = 1.0
MISSED_DEADLINE_FACTOR = 1.5
"""A tick that starts this many periods after the previous one counts as a missed deadline."""
LOG_THROTTLE_S = 2.0
NO_STATE_WARNING_S = 3.0
"""Steady-clock seconds after activation before missing or stopped state is warned about."""
NO_STATE_THROTTLE_S = 10.0
SHUTDOWN_ACK_TIMEOUT_S = 3.0
"""
Longest wait at shutdown for every subscriber to acknowledge the zero command, s: a lost sample
is repaired after the writer's next heartbeat, every 3 s by Fast DDS's default.
"""
AUDIT_VALUE_CHARS = 200
"""Longest value shown in an audit log line (longer ones are cut and their size given)."""
LIMITS_PER_ACTION = ('limits.command_low', 'limits.command_high', 'limits.max_rate_per_s')

if TYPE_CHECKING:  # the logic is mixed into a Node or LifecycleNode: type it against Node's API
    _NodeApi = Node
else:
    _NodeApi = object


@dataclasses.dataclass
class LatestState:
    """The last accepted state message, converted, and when it arrived (node clock, s)."""

    values: dict[str, float]
    frame_id: str
    arrival_s: float
    stamp: Time | None
    """The message's own stamp (None for unstamped arrays): stamped commands answer with it."""
    stamp_s: float | None = None
    """That stamp in seconds; None for unstamped messages and a zero stamp."""


class TimedActor:
    """The frozen actor with the duration of its last forward pass (steady clock, s)."""

    def __init__(self, actor: FrozenActor | SupportAwareActor) -> None:
        self.actor = actor
        self.last_latency_s = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.actor, name)

    def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start = time.perf_counter()
        try:
            return self.actor(obs)
        finally:
            self.last_latency_s = time.perf_counter() - start


def resolve_manifest(path: str) -> Path:
    """Absolute path of ``actor.manifest``; empty or relative paths are in the share folder."""
    if path and Path(path).is_absolute():
        return Path(path)
    return Path(get_package_share_directory(PACKAGE)) / (path or DEFAULT_MANIFEST)


def narrowed_bounds(actor_low: np.ndarray, actor_high: np.ndarray, limits_low: Sequence[float],
                    limits_high: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Command bounds: the actor's, narrowed by ``limits.*`` (which can never widen them)."""
    low, high = actor_low.copy(), actor_high.copy()
    for name, limits, target, pick in (('limits.command_low', limits_low, low, np.maximum),
                                       ('limits.command_high', limits_high, high, np.minimum)):
        if len(limits) not in (0, target.size):
            raise StartupError(f'{name} has {len(limits)} values, the actor has {target.size} '
                               'actions')
        if len(limits):
            target[:] = pick(target, np.asarray(limits, dtype=float))
    if np.any(low > high):
        raise StartupError(f'limits leave an empty command range: low {low} > high {high}')
    return low, high


class SteeringLogic(_NodeApi):
    """
    Steers a frozen actor toward goals given through parameters, RViz or goal priors.

    The logic of both node fronts: it uses only the node API that ``Node`` and ``LifecycleNode``
    share, so a front picks when to declare, configure, start and stop commanding, and release.
    """

    def _declare_parameters(self) -> None:
        """Declare every parameter and hook the set callbacks; nothing is loaded yet."""
        self._values = declare(self)
        self._steerer_or_none: Steerer | None = None
        self._actor_or_none: TimedActor | None = None
        self._support: SupportAwareActor | None = None
        self._commanding = False
        self._commanding_since = 0.0
        self._entities: list[Any] = []
        self.add_on_set_parameters_callback(self._validate_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)

    def _configure(self) -> None:
        """Load, verify and warm up the actor; build the steerer and every ROS entity."""
        frozen = self._load_actor()
        self._support = None if frozen.support is None else SupportAwareActor(
            frozen, frozen.support, self._values['support.std_gain'])
        self._actor_or_none = TimedActor(self._support or frozen)
        self._action_names = list(self._actor.manifest.action.names)
        self._state_type = adapters.StateType(self._values['state.type'])
        self._command_type = adapters.CommandType(self._values['command.type'])
        adapters.check_command_names(self._command_type, self._action_names)
        self._freshness = StateFreshness(self._values['limits.state_timeout_max_s'],
                                         self._values['limits.stamp_tolerance_max_s'])
        try:
            self._freshness.check(self._values['control.state_timeout_s'],
                                  self._values['control.stamp_tolerance_s'])
            self._steerer_or_none = Steerer(
                self._actor, self._actor.observation_layout.build, self._envelope(),
                steering_config(self._values), learned_prior=self._learned_prior(),
                steady_clock=time.monotonic)
        except ValueError as error:
            raise StartupError(f'steering settings do not fit the actor: {error}') from None
        problem = self._goal_problem(self._values['goal'], self._steerer.config.prior)
        if problem:
            raise StartupError(problem)
        if self._steerer.std_warning:
            self.get_logger().warning(self._steerer.std_warning)

        self._sources = required_sources(self._actor.manifest.observation.fields)
        self._inputs = InputAssembly([source.name for source in self._sources])
        self._required_keys = [
            key for key in self._actor.observation_layout.required_state_keys
            if not any(key.startswith(source.prefix) for source in self._sources)]
        self._array_size = sum(key.startswith('array.') for key in self._required_keys)
        self._state: LatestState | None = None
        self._state_rejection = ''
        self._pending_config: SteeringConfig | None = None
        self._command_message = adapters.COMMAND_MESSAGES[self._command_type]()
        if hasattr(self._command_message, 'header'):
            self._command_message.header.frame_id = 'base_link'
        self._tick_starts: collections.deque[float] = collections.deque(maxlen=1000)
        self._actor_latencies: collections.deque[float] = collections.deque(maxlen=1000)
        self._tick_work: collections.deque[float] = collections.deque(maxlen=1000)
        """Duration of each tick, s: conversion, steering, command and status publishing."""
        self._counters: collections.Counter[str] = collections.Counter()

        overrides = QoSOverridingOptions.with_default_policies()
        self._command_publisher = self.create_publisher(
            adapters.COMMAND_MESSAGES[self._command_type], 'command', 10,
            qos_overriding_options=overrides)
        self._status_publisher = self.create_publisher(SteeringStatus, '~/status', 10)
        self._diagnostics_publisher = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._state_subscription = self.create_subscription(
            adapters.STATE_MESSAGES[self._state_type], 'state', self._on_state,
            qos_profile_sensor_data, qos_overriding_options=overrides)
        self._entities = [
            self._command_publisher, self._status_publisher, self._diagnostics_publisher,
            self._state_subscription,
            self.create_subscription(PoseStamped, 'goal_pose', self._on_goal_pose,
                                     QoSProfile(depth=1), qos_overriding_options=overrides),
            self.create_subscription(GoalPrior, 'goal_prior', self._on_goal_prior,
                                     QoSProfile(depth=1), qos_overriding_options=overrides),
            self.create_subscription(PlannerPath, 'path', self._on_path, QoSProfile(depth=1),
                                     qos_overriding_options=overrides),
            self.create_service(srv.Trigger, '~/clear_goal', self._on_clear_goal),
            *(self._subscribe_input(source, overrides) for source in self._sources)]
        self._period_s = 1.0 / self._values['control.rate_hz']
        max_status_rate_hz = self._values['status.max_rate_hz']
        self._status_period_s = 1.0 / max_status_rate_hz if max_status_rate_hz > 0.0 else 0.0
        self._last_status_s = -math.inf
        self._tick_on_state = self._values['control.trigger'] == Trigger.STATE.value
        self._entities += [
            self.create_timer(self._period_s,
                              self._on_watchdog if self._tick_on_state else self._on_tick),
            self.create_timer(DIAGNOSTICS_PERIOD_S, self._publish_diagnostics)]
        warmup = self._actor.warmup_latency_s
        self.get_logger().info(
            f'actor {self._actor.manifest.model_path.name} ({self._actor.manifest.format.value}) '
            f'sha256 {self._actor.sha256[:12]}... '
            f'on {self._actor.device}, warm-up median '
            f'{1e3 * warmup.median_s if warmup else float("nan"):.3f} ms; '
            f'{self._values["control.rate_hz"]:g} Hz, rule {self._steerer.config.rule.value}; '
            f'inputs {[STATE_INPUT, *self._inputs.names]}; support model '
            f'{"none (std as the actor gives it)" if self._support is None else "loaded"}; '
            f'per-state kernels {per_state.describe()}')

    @property
    def _steerer(self) -> Steerer:
        """Return the Steerer; a lifecycle node has none before configure and after cleanup."""
        if self._steerer_or_none is None:
            raise RuntimeError('the steering node is not configured')
        return self._steerer_or_none

    @property
    def _actor(self) -> TimedActor:
        """Return the actor; a lifecycle node has none before configure and after cleanup."""
        if self._actor_or_none is None:
            raise RuntimeError('the steering node is not configured')
        return self._actor_or_none

    def _start_commanding(self) -> None:
        """Steer from the next tick on."""
        self._commanding = True
        self._commanding_since = time.monotonic()
        self.get_logger().info(f'commanding on {self._command_publisher.topic_name}, state '
                               f'from {self._state_subscription.topic_name}')

    def _stop_commanding(self, why: str) -> None:
        """
        Send the zero command, see it delivered, and stop commanding (no-op if not commanding).

        Zero whatever ``control.safe_command`` says: a held command would stay on the wire.
        The node waits up to ``SHUTDOWN_ACK_TIMEOUT_S`` until every reliable subscriber has
        acknowledged it (best-effort ones cannot acknowledge).
        """
        if not self._commanding:
            return
        self._commanding = False
        self._publish_command(self._steerer.safe_command('zero', self._now_s()))
        delivered = self._command_publisher.wait_for_all_acked(
            Duration(nanoseconds=int(SHUTDOWN_ACK_TIMEOUT_S * 1e9)))
        if delivered:
            self.get_logger().info(f'{why}; zero command sent and acknowledged')
        else:
            self.get_logger().warning(f'{why}; zero command sent, not acknowledged by every '
                                      f'subscriber within {SHUTDOWN_ACK_TIMEOUT_S:g} s')

    def _release(self) -> None:
        """Destroy every entity ``_configure`` created and drop the actor."""
        destroy: dict[str, Callable[[Any], bool]] = {
            'Publisher': self.destroy_publisher, 'Subscription': self.destroy_subscription,
            'Service': self.destroy_service, 'Timer': self.destroy_timer}
        for entity in self._entities:
            destroy[type(entity).__name__](entity)
        self._entities = []
        self._steerer_or_none = None
        self._support = None
        self._actor_or_none = None

    # Start-up -----------------------------------------------------------------------------

    def _load_actor(self) -> FrozenActor:
        path = resolve_manifest(self._values['actor.manifest'])
        self.get_logger().info(f'loading frozen actor {path}')
        actor = load_actor(path, device=self._values['actor.device'],
                           num_threads=self._values['actor.num_threads'],
                           model_format=self._values['actor.format'])
        if actor.device != self._values['actor.device'] and self._values['actor.device'] != 'auto':
            self.get_logger().warning(f"actor.device {self._values['actor.device']} is not "
                                      f'available; running on {actor.device}')
        bundle, pinned = actor.manifest.bundle_sha256, self._values['actor.bundle_sha256']
        if pinned and pinned.strip().lower() != bundle:
            raise StartupError(f'the actor bundle {path} has SHA-256 {bundle}, not the pinned '
                               f'actor.bundle_sha256 {pinned!r}: the manifest or a model file '
                               'changed since it was certified')
        if not pinned:
            self.get_logger().warning(f'actor.bundle_sha256 is not set: the bundle {bundle} is '
                                      'not pinned (any manifest edit would run)')
        return actor

    def _subscribe_input(self, source: InputSource, overrides: QoSOverridingOptions) -> Any:
        """Subscribe to one observation input; its messages are converted and stored."""
        convert = source.make_converter(self._actor.manifest.observation)

        def on_message(message: Any) -> None:
            try:
                values = convert(message)
            except adapters.MessageError as error:
                self._counters[f'{source.name}_rejected'] += 1
                self.get_logger().warning(f'{source.name} rejected: {error}',
                                          throttle_duration_sec=LOG_THROTTLE_S)
                return
            self._inputs.store(source.name, values, self._now_s())

        return self.create_subscription(source.message_type, source.name, on_message,
                                        qos_profile_sensor_data,
                                        qos_overriding_options=overrides)

    def _envelope(self) -> SafetyEnvelope:
        try:
            check_limit_names(self._action_names, self._values['limits.action_names'],
                              {name: self._values[name] for name in LIMITS_PER_ACTION})
        except ValueError as error:
            raise StartupError(f'limits.action_names: {error}') from None
        low, high = narrowed_bounds(self._actor.action_low, self._actor.action_high,
                                    self._values['limits.command_low'],
                                    self._values['limits.command_high'])
        rates = self._values['limits.max_rate_per_s'] or [math.inf] * low.size
        if len(rates) != low.size:
            raise StartupError(f'limits.max_rate_per_s has {len(rates)} values, the actor has '
                               f'{low.size} actions')
        return SafetyEnvelope(low, high, np.asarray(rates, dtype=float),
                              alpha_max=self._values['limits.alpha_max'],
                              fallback=self._values['limits.fallback'],
                              hold_max_s=self._values['limits.hold_max_s'],
                              external_prior_max_s=self._values['limits.goal_prior_max_s'])

    def _learned_prior(self) -> LearnedPrior | None:
        path = self._values['prior.model_file']
        if not path:
            return None
        import torch  # only a learned prior needs torch here
        return LearnedPrior(torch.jit.load(  # type: ignore[no-untyped-call]
            str(resolve_manifest(path)), map_location='cpu'))

    # Parameters ---------------------------------------------------------------------------

    def set_parameters_atomically(
            self, parameter_list: list[Parameter[Any]]) -> SetParametersResult:
        """
        Set parameters as rclpy does, after converting what ``ros2 param set`` sends.

        Values are converted to the declared type where the meaning is plain (an integer for a
        double, ``[]`` of any type for an empty list; ``ParameterSpec.coerce``). Values equal to
        the current ones change nothing and are accepted without a call into rclpy, so loading
        a dumped parameter file passes its read-only values quietly. Every attempt is logged
        with old and new value (the audit trail), unchanged ones as such.
        """
        old = {parameter.name: self._current_value(parameter.name)
               for parameter in parameter_list}
        try:
            parameters = [self._coerced(parameter, old[parameter.name])
                          for parameter in parameter_list]
        except ValueError as error:
            result = SetParametersResult(successful=False, reason=str(error))
            self._log_attempts(parameter_list, old, result)
            return result
        changed = [parameter for parameter in parameters
                   if not self.has_parameter(parameter.name)
                   or not _same(parameter.value, old[parameter.name])]
        if len({parameter.name for parameter in parameters}) < len(parameters):
            changed = parameters  # a name given twice: rclpy applies the last one, as logged
        try:
            result = super().set_parameters_atomically(changed) if changed else \
                SetParametersResult(successful=True)
        except ParameterNotDeclaredException:
            # rclpy refuses the whole set before any callback runs: log it like any rejection.
            self._log_attempts(parameters, old, SetParametersResult(
                successful=False, reason='not a parameter of this node'))
            raise
        self._log_attempts(parameters, old, result)
        return result

    def _current_value(self, name: str) -> Any:
        """Return the parameter's value (lists as lists), or None if it is not declared."""
        if name in self._values:
            return self._values[name]
        return self.get_parameter(name).value if self.has_parameter(name) else None

    @staticmethod
    def _coerced(parameter: Parameter[Any], old: Any) -> Parameter[Any]:
        """Return ``parameter`` converted to its declared type; ValueError in plain words."""
        spec = SPECS.get(parameter.name)
        if spec is None:
            return parameter
        parameter = spec.coerce(parameter)
        if spec.read_only and not _same(parameter.value, old):
            raise ValueError(f'{spec.name} is read-only: it is set at launch (params_file) and '
                             f'stays {plain(old)} until a restart')
        return parameter

    def _log_attempts(self, parameter_list: list[Parameter[Any]], old: dict[str, Any],
                      result: SetParametersResult) -> None:
        """
        Log one line per parameter: name, old and new value, and the outcome with its reason.

        A read-only parameter given its current value changes nothing and is logged at debug
        level, so that loading a dumped parameter file is quiet. Within one request the last
        value of a name is the one applied; earlier values of the same name are logged as
        superseded, never as accepted. Values are cut to ``AUDIT_VALUE_CHARS``.
        """
        last = {parameter.name: index for index, parameter in enumerate(parameter_list)}
        for index, parameter in enumerate(parameter_list):
            # Names the node does not own are quoted, so that none can forge a log line.
            name = parameter.name if parameter.name in SPECS else repr(parameter.name)
            change = (f'parameter {name}: {_audit_value(old[parameter.name])} -> '
                      f'{_audit_value(parameter.value)}')
            if last[parameter.name] != index:
                self.get_logger().warning(f'{change} superseded by a later value in the same '
                                          'request: not applied')
            elif not result.successful:
                self.get_logger().warning(f'{change} rejected: {result.reason}')
            elif not _same(parameter.value, old[parameter.name]):
                self.get_logger().info(f'{change} accepted')
            elif parameter.name in SPECS and SPECS[parameter.name].read_only:
                # what `ros2 param load` of a dumped file sends for every read-only value
                self.get_logger().debug(f'{change} accepted: unchanged')
            else:
                self.get_logger().info(f'{change} accepted: unchanged')

    def _validate_parameters(self, parameters: list[Parameter[Any]]) -> SetParametersResult:
        """Accept a set of parameters only if the resulting steering settings are valid."""
        candidate = dict(self._values)
        try:
            for parameter in parameters:
                spec = SPECS.get(parameter.name)
                if spec is None and not self.has_parameter(parameter.name):
                    continue  # rclpy declaring its own (QoS overrides of the entities made)
                if spec is None:
                    raise ValueError(f'{parameter.name} is not a runtime setting of this node '
                                     '(set it at launch)')
                value = parameter.value
                spec.check(value)
                candidate[parameter.name] = _listed(value)
            config = steering_config(candidate)
            if self._steerer_or_none is not None:  # else configure checks them on the actor
                self._steerer.check_config(config)
                self._freshness.check(candidate['control.state_timeout_s'],
                                      candidate['control.stamp_tolerance_s'])
                problem = self._goal_problem(candidate['goal'], config.prior)
                if problem:
                    raise ValueError(problem)
        except (KeyError, ValueError) as error:
            return SetParametersResult(successful=False, reason=str(error))
        return SetParametersResult(successful=True)

    def _apply_parameters(self, parameters: list[Parameter[Any]]) -> None:
        """Record accepted values; the next tick swaps the steering config in atomically."""
        for parameter in parameters:
            self._values[parameter.name] = _listed(parameter.value)
        if self._support is not None:
            self._support.gain = self._values['support.std_gain']
        self._pending_config = steering_config(self._values)

    def _goal_problem(self, goal: Sequence[float], prior: Any) -> str:
        """Why ``goal`` cannot be used with the ``prior`` settings ('' if it can)."""
        return goal_problem(goal, self._actor.observation_layout.goal_dim, prior)

    def _on_clear_goal(self, _request: srv.Trigger.Request,
                       response: srv.Trigger.Response) -> srv.Trigger.Response:
        """``~/clear_goal``: no goal, so the safe command is sent until a new goal is set."""
        result = self.set_parameters_atomically(
            [Parameter('goal', Parameter.Type.DOUBLE_ARRAY, [])])
        response.success = result.successful
        response.message = 'goal cleared: sending the safe command' if result.successful \
            else result.reason
        return response

    # Inputs -------------------------------------------------------------------------------

    def _now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_state(self, message: Any) -> None:
        try:
            values = adapters.STATE_CONVERTERS[self._state_type](message)
            adapters.check_state(values, self._required_keys, self._array_size
                                 if self._state_type is adapters.StateType.ARRAY else None)
            header = getattr(message, 'header', None)
            stamped = header is not None and (header.stamp.sec or header.stamp.nanosec)
            stamp_s = (adapters.time_to_seconds(header.stamp)
                       if stamped and header is not None else None)
        except adapters.MessageError as error:
            self._counters['states_rejected'] += 1
            self._state_rejection = str(error)
            self.get_logger().warning(f'state rejected: {error}',
                                      throttle_duration_sec=LOG_THROTTLE_S)
            return
        self._state_rejection = ''
        arrival_s = self._now_s()
        if self._state is None:
            self.get_logger().info('first state received')
        self._state = LatestState(values, header.frame_id if header else '', arrival_s,
                                  header.stamp if header else None, stamp_s)
        if self._tick_on_state:
            self._on_tick(arrival_s)

    def _on_goal_pose(self, message: PoseStamped) -> None:
        state_frame = self._state.frame_id if self._state else ''
        if message.header.frame_id and state_frame and message.header.frame_id != state_frame:
            self.get_logger().warning(
                f'goal_pose in frame {message.header.frame_id!r} rejected: the state is in '
                f'{state_frame!r} and no transform is available')
            return
        try:
            goal = adapters.pose_to_goal(message, 3 if len(self._values['goal']) == 3 else 2)
        except adapters.MessageError as error:
            self.get_logger().warning(f'goal_pose rejected: {error}')
            return
        self.set_parameters_atomically([Parameter('goal', value=goal)])

    def _on_goal_prior(self, message: GoalPrior) -> None:
        now_s = self._now_s()
        self._apply_pending_config(now_s)  # the prior.type in force decides
        try:
            mean, std, space, weight = adapters.goal_prior_to_gaussian(
                message, len(self._action_names))
            expiry_s = adapters.time_to_seconds(message.expiry)
            if expiry_s <= now_s:
                raise adapters.MessageError(f'expired at {expiry_s:.3f} s (now {now_s:.3f} s)')
            self._steerer.set_external_prior(mean, std, space, expiry_s, weight, now_s)
        except (adapters.MessageError, ValueError) as error:
            self._counters['priors_rejected'] += 1
            self.get_logger().warning(f'goal_prior rejected: {error}',
                                      throttle_duration_sec=LOG_THROTTLE_S)
            return

    def _on_path(self, message: PlannerPath) -> None:
        """Hand a planner's path (state frame) to the Steerer; prior.type path follows it."""
        state_frame = self._state.frame_id if self._state else ''
        try:
            if message.header.frame_id and state_frame and message.header.frame_id != state_frame:
                raise adapters.MessageError(f'frame {message.header.frame_id!r} is not the '
                                            f'state frame {state_frame!r}')
            self._steerer.set_path(adapters.path_to_points(message), self._now_s())
        except (adapters.MessageError, ValueError) as error:
            self.get_logger().warning(f'path rejected: {error}',
                                      throttle_duration_sec=LOG_THROTTLE_S)

    # Control ------------------------------------------------------------------------------

    def _on_tick(self, now_s: float | None = None) -> None:
        """Run one control tick at ``now_s`` (node clock; None: read it) while commanding."""
        if not self._commanding:
            return
        tick_start = time.perf_counter()
        self._tick_starts.append(tick_start)
        if now_s is None:
            now_s = self._now_s()
        self._apply_pending_config(now_s)
        state, goal = self._state, self._values['goal']
        state_age_s = self._state_age_s(now_s)
        telemetry: Telemetry | None = None
        stale_inputs = self._stale_inputs(now_s)
        stale = bool(stale_inputs)
        detail = self._state_rejection
        if STATE_INPUT in stale_inputs:
            self._warn_stale_state(now_s, state_age_s)
        elif stale:
            self.get_logger().warning(f'{", ".join(stale_inputs)} stale or missing: sending the '
                                      'safe command', throttle_duration_sec=NO_STATE_THROTTLE_S)
        if stale or not goal:
            command = self._steerer.safe_command(self._values['control.safe_command'], now_s)
            detail = detail or ('no goal set' if not goal else
                                f'{", ".join(stale_inputs)} stale or missing')
        else:
            assert state is not None  # stale_inputs names the state while there is none
            try:
                command, telemetry = self._steerer.step(self._inputs.merged(state.values),
                                                        np.asarray(goal), now_s)
                self._actor_latencies.append(self._actor.last_latency_s)
            except (KeyError, ValueError, RuntimeError, ArithmeticError) as error:
                self._counters['tick_errors'] += 1
                self.get_logger().error(f'tick failed, safe command sent: {error}',
                                        throttle_duration_sec=LOG_THROTTLE_S)
                command = self._steerer.safe_command(self._values['control.safe_command'], now_s)
                detail = str(error)
        self._counters['stale_ticks'] += stale
        self._publish_command(command, None if telemetry is None or state is None else state.stamp)
        if self._status_due(now_s, telemetry):
            self._publish_status(command, telemetry, state, state_age_s, stale_inputs, detail,
                                 tick_start)
        self._tick_work.append(time.perf_counter() - tick_start)

    def _apply_pending_config(self, now_s: float) -> None:
        """Swap in the config accepted since the last tick, if any."""
        if self._pending_config is not None:
            self._steerer.update_config(self._pending_config, now_s)
            self._pending_config = None

    def _warn_stale_state(self, now_s: float, state_age_s: float) -> None:
        """Say on the console, throttled, that state is missing or stale, naming the topic."""
        waited_s = time.monotonic() - self._commanding_since
        if waited_s < NO_STATE_WARNING_S:
            return
        topic = self._state_subscription.topic_name
        if self._state is None:
            message = (f'no state received on {topic} in {waited_s:.0f} s since activation: '
                       'sending the safe command (is the state topic remapped and published?)')
        else:
            stamp_s = self._state.stamp_s
            stamped = '' if stamp_s is None else f', stamped {now_s - stamp_s:.1f} s before now'
            message = (f'state on {topic} is stale (arrived {state_age_s:.1f} s ago{stamped}; '
                       f"timeout {self._values['control.state_timeout_s']:g} s): sending the "
                       'safe command (stopped publishing, or a clock mismatch: use_sim_time?)')
        self.get_logger().warning(message, throttle_duration_sec=NO_STATE_THROTTLE_S)

    def _on_watchdog(self) -> None:
        """With ticks triggered by state messages: keep sending the safe command while stale."""
        if not self._commanding:
            return
        now_s = self._now_s()
        if self._stale_inputs(now_s):
            self._on_tick(now_s)

    def _state_age_s(self, now_s: float) -> float:
        """Age of the latest accepted state on the node clock, s (inf before the first)."""
        return math.inf if self._state is None else now_s - self._state.arrival_s

    def _is_stale(self, now_s: float) -> bool:
        """
        Whether the state must not be used at ``now_s`` (``StateFreshness.is_stale``).

        Older than the timeout by arrival or by its own stamp, stamped too far ahead, or
        arrived after now (the clock jumped back: a simulator restarted, and the state belongs
        to the old timeline until fresh state arrives).
        """
        state = self._state
        return state is None or self._freshness.is_stale(
            now_s, state.arrival_s, state.stamp_s, self._values['control.state_timeout_s'],
            self._values['control.stamp_tolerance_s'])

    def _stale_inputs(self, now_s: float) -> list[str]:
        """Return the inputs that must not be used now (``ros.inputs``' rule), state first."""
        stale = [STATE_INPUT] if self._is_stale(now_s) else []
        max_ages = {source.name: self._values[source.max_age_parameter]
                    for source in self._sources}
        return stale + self._inputs.stale(now_s, max_ages)

    def _status_due(self, now_s: float, telemetry: Telemetry | None) -> bool:
        """
        Whether this tick publishes ``~/status``: at most ``status.max_rate_hz`` of them.

        Ticks that send the safe command (no telemetry) or a fallback always publish; so does
        the first tick after the clock jumped back.
        """
        routine = telemetry is not None and not telemetry.fallback_used
        if routine and 0.0 <= now_s - self._last_status_s < self._status_period_s:
            return False
        self._last_status_s = now_s
        return True

    def _publish_command(self, command: np.ndarray, state_stamp: Time | None = None) -> None:
        """
        Publish a command; a stamped one carries the stamp of the state it answers.

        The safe command, which answers no state, is stamped with the node clock's now.
        """
        message = self._command_message
        adapters.fill_command(message, command, self._action_names)
        if hasattr(message, 'header'):
            message.header.stamp = state_stamp or self.get_clock().now().to_msg()
        self._command_publisher.publish(message)

    def _publish_status(self, command: np.ndarray, telemetry: Telemetry | None,
                        state: LatestState | None, state_age_s: float,
                        stale_inputs: list[str], detail: str, tick_start: float) -> None:
        config = self._steerer.config
        status = SteeringStatus(
            rule=config.rule.value, kl_budget=config.kl_budget,
            prior_type=config.prior.type.value, action_names=self._action_names,
            command=command.tolist(), goal=list(self._values['goal']),
            state_age_s=state_age_s, stale_state=bool(stale_inputs),
            stale_inputs=stale_inputs, state_rejected=bool(self._state_rejection),
            detail=detail, actor_sha256=self._actor.sha256, actor_support=math.nan,
            actor_std_scale=1.0)
        status.header.stamp = self.get_clock().now().to_msg()
        status.header.frame_id = state.frame_id if state else ''
        if telemetry is not None:
            adapters.fill_status(status, telemetry)
            status.actor_latency_s = self._actor.last_latency_s
            support = self._support.last if self._support is not None else None
            if support is not None:
                status.actor_support = support.support
                status.actor_std_scale = support.std_scale
        status.tick_latency_s = time.perf_counter() - tick_start
        self._status_publisher.publish(status)

    def _publish_diagnostics(self) -> None:
        starts = np.diff(np.asarray(self._tick_starts))
        rate_hz = 1.0 / float(np.mean(starts)) if starts.size else 0.0
        missed = int(np.sum(starts > MISSED_DEADLINE_FACTOR * self._period_s))
        stale_inputs = self._stale_inputs(self._now_s())
        stale = bool(stale_inputs)
        config = self._steerer.config
        level, message = DiagnosticStatus.OK, 'steering'
        if stale:
            level, message = DiagnosticStatus.WARN, (f'{", ".join(stale_inputs)} stale or '
                                                     'missing: safe command sent')
        elif missed:
            level, message = DiagnosticStatus.WARN, f'{missed} control deadlines missed'
        values = {
            'actor_device': self._actor.device,
            'actor_format': self._actor.manifest.format.value,
            'actor_sha256': self._actor.sha256,
            'bundle_sha256': self._actor.manifest.bundle_sha256,
            'kernels': per_state.BACKEND,
            **_percentiles_ms('actor_latency', self._actor_latencies),
            **_percentiles_ms('tick_work', self._tick_work),
            'loop_rate_hz': f'{rate_hz:.1f}',
            'target_rate_hz': f'{1.0 / self._period_s:.1f}',
            'missed_deadlines': str(missed),
            'stale_state': str(stale),
            'states_rejected': str(self._counters['states_rejected']),
            'priors_rejected': str(self._counters['priors_rejected']),
            'tick_errors': str(self._counters['tick_errors']),
            'rule': config.rule.value,
            'alpha': f'{config.alpha:g}',
            'beta': f'{config.beta:g}',
            'kl_budget': f'{config.kl_budget:g}',
        }
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        array.status = [DiagnosticStatus(
            level=level, name=f'{self.get_fully_qualified_name()}: steering', message=message,
            hardware_id=self._actor.sha256,
            values=[KeyValue(key=key, value=value) for key, value in values.items()])]
        self._diagnostics_publisher.publish(array)
        self._tick_starts.clear()
        self._actor_latencies.clear()
        self._tick_work.clear()


class SteerNode(SteeringLogic, Node):
    """The plain steering node: configured and commanding as soon as it is constructed."""

    def __init__(self, **node_options: Any) -> None:
        super().__init__(NODE_NAME, **node_options)
        self._declare_parameters()
        self._configure()
        self._start_commanding()

    def on_shutdown(self) -> None:
        """Send the zero command before the node goes away (Ctrl-C, SIGTERM); see it delivered."""
        self._stop_commanding('stopped')


class ManagedSteerNode(SteeringLogic, LifecycleNode):
    """
    The steering node as a lifecycle node: it commands only while active.

    A failed configure (actor refused, settings that do not fit it) logs why, releases what
    was made and leaves the node unconfigured, so the manager may fix parameters and retry.
    """

    def __init__(self, **node_options: Any) -> None:
        super().__init__(NODE_NAME, **node_options)
        self._declare_parameters()

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load, verify and warm up the actor; create the topics, services and timers."""
        try:
            self._configure()
        except (StartupError, ValueError, OSError) as error:
            self.get_logger().error(f'configure failed: {error}')
            self._release()
            return TransitionCallbackReturn.FAILURE
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Start commanding."""
        self._start_commanding()
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Send the safe command and stop commanding."""
        self._stop_commanding('deactivated')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the actor and every entity; parameters stay."""
        self._release()
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState | None = None) -> TransitionCallbackReturn:
        """
        Stop commanding (safe command) and release: the shutdown transition, or process exit.

        ``run_node`` calls it without a state when the process is interrupted.
        """
        self._stop_commanding('stopped')
        if self._steerer_or_none is not None:
            self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Send the safe command, release, and go back to unconfigured."""
        return self.on_shutdown(state)


def _listed(value: Any) -> Any:
    """Return a parameter value with arrays (rclpy gives array.array or list) as lists."""
    return list(value) if isinstance(value, (list, tuple, array.array)) else value


def _same(value: Any, other: Any) -> bool:
    """Whether two parameter values are equal: same type, arrays element by element."""
    value, other = _listed(value), _listed(other)
    return type(value) is type(other) and value == other


def _audit_value(value: Any) -> str:
    """Return ``plain(value)``, cut to ``AUDIT_VALUE_CHARS`` with the size of what was cut."""
    value = _listed(value)
    text = plain(value)
    if len(text) <= AUDIT_VALUE_CHARS:
        return text
    size = f'{len(value)} items, ' if isinstance(value, list) else ''
    return f'{text[:AUDIT_VALUE_CHARS]}... ({size}{len(text)} characters)'


def _percentiles_ms(name: str, samples_s: Sequence[float]) -> dict[str, str]:
    """Diagnostic values ``<name>_p50_ms`` and ``<name>_p99_ms`` (0 without samples)."""
    values = np.asarray(samples_s) if samples_s else np.zeros(1)
    return {f'{name}_p{q}_ms': f'{1e3 * np.percentile(values, q):.3f}' for q in (50, 99)}


def main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run poe_steer_ros steer_node``."""
    raise SystemExit(run_node(SteerNode, args, logger_name=NODE_NAME))


def managed_main(args: list[str] | None = None) -> None:
    """Entry point of ``ros2 run poe_steer_ros steer_lifecycle_node`` (starts unconfigured)."""
    raise SystemExit(run_node(ManagedSteerNode, args, logger_name=NODE_NAME))


if __name__ == '__main__':
    main()
