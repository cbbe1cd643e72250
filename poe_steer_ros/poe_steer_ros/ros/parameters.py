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
The steering node's parameters, declared from one table.

Runtime steering defaults come from ``core.steerer.SteeringConfig`` (one source: code); the
YAML in ``config/`` overrides them with unit comments. Read-only parameters need a restart:
the actor, the message types, the control rate and the safety envelope (so that no live change
can widen what was certified).
"""

from __future__ import annotations

import array
import dataclasses
import enum
import math
from typing import Any, Iterable, Mapping

from poe_steer_ros.core.actor import DEVICES
from poe_steer_ros.core.compose import Rule
from poe_steer_ros.core.manifest import ModelFormat
from poe_steer_ros.core.priors import PRIOR_STD_MIN, PriorType
from poe_steer_ros.core.safety import Fallback
from poe_steer_ros.core.steerer import ActionMode, SteeringConfig
from poe_steer_ros.ros.adapters import CommandType, StateType
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType)
from rclpy.parameter import Parameter
import yaml


class SafeCommand(str, enum.Enum):
    """Command sent while the state is stale or missing (``control.safe_command``)."""

    ZERO = 'zero'
    HOLD = 'hold'


class Trigger(str, enum.Enum):
    """What starts a control tick (``control.trigger``)."""

    TIMER = 'timer'
    """The control.rate_hz timer, on the latest state."""
    STATE = 'state'
    """Each arriving state message (lowest latency); the timer only watches for stale state."""


ACTOR_FORMATS = ('auto', *(model_format.value for model_format in ModelFormat))
"""``actor.format``: auto runs a format whose runtime can use the GPU when one is used, else ONNX
on the CPU; or one of the core's model formats."""


STEERING_PREFIX = 'steering.'
STATE_TIMEOUT_MAX_S = 60.0
"""Largest state timeout any parameter file may set, s."""
STAMP_TOLERANCE_MAX_S = 10.0
"""Largest stamp tolerance any parameter file may set, s."""
"""ROS names of SteeringConfig's top-level weight fields: ``steering.alpha`` -> ``alpha``."""

_TYPES: dict[type, int] = {
    bool: ParameterType.PARAMETER_BOOL, int: ParameterType.PARAMETER_INTEGER,
    float: ParameterType.PARAMETER_DOUBLE, str: ParameterType.PARAMETER_STRING}
_ARRAY_TYPES: dict[type, int] = {float: ParameterType.PARAMETER_DOUBLE_ARRAY,
                                 str: ParameterType.PARAMETER_STRING_ARRAY}


@dataclasses.dataclass(frozen=True)
class ParameterSpec:
    """One parameter: name, default, what it means (with units), range and mutability."""

    name: str
    default: Any
    description: str
    read_only: bool = False
    low: float | None = None
    high: float | None = None
    choices: type[enum.Enum] | tuple[str, ...] | None = None
    """The allowed strings: an enum of the core or a tuple the core defines."""
    element: type = float
    """Element type of list parameters (their default may be empty)."""

    @property
    def ros_type(self) -> int:
        """Return the ParameterType this parameter is declared with."""
        if isinstance(self.default, (list, tuple)):
            return _ARRAY_TYPES[self.element]
        return _TYPES[type(self.default)]

    def descriptor(self) -> ParameterDescriptor:
        """Return the descriptor ``ros2 param describe`` shows: description, range, read-only."""
        description = self.description
        if self.choices is not None:
            description += ' One of: ' + ', '.join(self.choice_values) + '.'
        descriptor = ParameterDescriptor(name=self.name, type=self.ros_type,
                                         description=description, read_only=self.read_only)
        if self.low is not None and isinstance(self.default, float):
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=self.low, to_value=self.high, step=0.0)]
        elif self.low is not None and self.high is not None and isinstance(self.default, int):
            descriptor.integer_range = [IntegerRange(
                from_value=int(self.low), to_value=int(self.high), step=1)]
        return descriptor

    @property
    def choice_values(self) -> tuple[str, ...]:
        """Return the allowed strings of a choice parameter (empty: any)."""
        if self.choices is None:
            return ()
        return tuple(choice.value if isinstance(choice, enum.Enum) else choice
                     for choice in self.choices)

    def check(self, value: Any) -> None:
        """Raise ValueError with a reason if ``value`` is not acceptable (beyond its ROS type)."""
        if self.choices is not None and value not in self.choice_values:
            raise ValueError(f'{self.name} must be one of {", ".join(self.choice_values)}; '
                             f'got {plain(value)}')

    def coerce(self, parameter: Parameter[Any]) -> Parameter[Any]:
        """
        Return ``parameter`` with the type this parameter is declared with, or raise ValueError.

        ``ros2 param set`` sends what YAML parses: ``1`` is an integer, ``[4, 1]`` an integer
        array, ``[]`` a bool array and ``[4.0, 1]`` a string. Each of these is a sensible value
        for a double or a goal, so it is converted; anything else is refused in plain words.
        """
        wanted = Parameter.Type(self.ros_type)
        value = parameter.value
        if parameter.type_ == wanted:
            return parameter
        if wanted == Parameter.Type.DOUBLE and parameter.type_ == Parameter.Type.INTEGER:
            return Parameter(self.name, wanted, float(value))
        if wanted in _ARRAY_ELEMENTS and parameter.type_ in _ARRAY_ELEMENTS and not len(value):
            return Parameter(self.name, wanted, [])
        if wanted == Parameter.Type.DOUBLE_ARRAY:
            numbers = _yaml_list(value) if parameter.type_ == Parameter.Type.STRING else value
            if parameter.type_ in (Parameter.Type.INTEGER_ARRAY, Parameter.Type.STRING) and \
                    _all_numbers(numbers):
                return Parameter(self.name, wanted, [float(number) for number in numbers])
        raise ValueError(f'{self.name} expects {_TYPE_WORDS[wanted]}; got {plain(value)} '
                         f'({_TYPE_WORDS.get(parameter.type_, parameter.type_.name.lower())})')


_ARRAY_ELEMENTS = {Parameter.Type.BOOL_ARRAY, Parameter.Type.INTEGER_ARRAY,
                   Parameter.Type.DOUBLE_ARRAY, Parameter.Type.STRING_ARRAY,
                   Parameter.Type.BYTE_ARRAY}
_TYPE_WORDS = {Parameter.Type.BOOL: 'true or false', Parameter.Type.INTEGER: 'a whole number',
               Parameter.Type.DOUBLE: 'a number', Parameter.Type.STRING: 'a text',
               Parameter.Type.BOOL_ARRAY: 'a list of true/false',
               Parameter.Type.INTEGER_ARRAY: 'a list of whole numbers',
               Parameter.Type.DOUBLE_ARRAY: 'a list of numbers',
               Parameter.Type.STRING_ARRAY: 'a list of texts',
               Parameter.Type.BYTE_ARRAY: 'a list of bytes'}


def _yaml_list(text: str) -> Any:
    """Return what YAML reads from ``text`` (None if it is not YAML)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _all_numbers(values: Any) -> bool:
    return isinstance(values, (list, array.array)) and all(
        isinstance(value, (int, float)) and not isinstance(value, bool) for value in values)


def plain(value: Any) -> str:
    """
    Render a parameter value for a log line or a reason: ``[4, 1.5]``, ``0.7``, ``poe``.

    Texts that are not printable on one line are quoted, so that no value can forge a log line.
    """
    if isinstance(value, (list, tuple, array.array)):
        return '[' + ', '.join(plain(item) for item in value) + ']'
    if isinstance(value, float):
        return f'{value:g}' if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if value and value.isprintable() and value.strip() == value else repr(value)
    if value is None:
        return 'unset'
    return str(value).lower() if isinstance(value, bool) else str(value)


FLOAT_MAX = 1.0e9
"""Upper end of open-ended ranges (ROS ranges need both ends)."""
_PRIOR_STDS = ('prior.std_linear', 'prior.std_angular', 'prior.std_joint')
"""Prior stds: at least ``core.priors.PRIOR_STD_MIN``."""


def _steering_specs() -> list[ParameterSpec]:
    """Return the runtime steering parameters, their defaults taken from SteeringConfig()."""
    default = SteeringConfig().to_parameters()

    def spec(name: str, description: str, **extra: Any) -> ParameterSpec:
        key = name[len(STEERING_PREFIX):] if name.startswith(STEERING_PREFIX) else name
        if isinstance(default[key], float) and 'low' not in extra:
            extra.update(low=PRIOR_STD_MIN if key in _PRIOR_STDS else 0.0, high=FLOAT_MAX)
        return ParameterSpec(name, default[key], description, **extra)

    return [
        spec('steering.rule', 'Composition rule: frozen actor, Product of Experts with weight '
             'alpha, KL-regularised with weight beta, additive blend, or the prior alone.',
             choices=Rule),
        spec('steering.alpha', 'Prior weight of poe and additive, dimensionless; '
             'beta = alpha / (1 - alpha).', low=0.0, high=1.0),
        spec('steering.beta', 'KL-regularisation weight of rule kl, dimensionless.'),
        spec('steering.kl_budget', 'Nats; > 0 lowers the weight per state so that '
             'KL(composed || actor) stays within it; 0 disables it.'),
        spec('steering.alpha_ramp_s', 'Seconds over which a changed weight is reached.',
             low=0.0, high=3600.0),
        spec('steering.stall_s', 'Seconds without stall_progress_m of progress toward the '
             'goal after which a planar base is stalled (flagged on ~/status).', low=0.001,
             high=3600.0),
        spec('steering.stall_progress_m', 'Progress toward the goal, m, that restarts the stall '
             'clock.'),
        spec('steering.stall_alpha', 'While stalled the prior weight is raised to at least '
             'this, within limits.alpha_max; 0: flag only.', low=0.0, high=1.0),
        spec('prior.type', 'Goal prior: planar pose attractor, joint attractor, a learned model '
             '(prior.model_file), external priors received on goal_prior, or a planner path '
             'received on path (nav_msgs/Path).', choices=PriorType),
        spec('prior.k_linear', 'Pose prior: forward speed per metre to the goal, 1/s.'),
        spec('prior.k_angular', 'Pose prior: turn rate per radian of heading error, 1/s.'),
        spec('prior.std_linear', 'Pose prior: forward-speed std at the goal, m/s.'),
        spec('prior.std_linear_per_m', 'Pose prior: growth of that std per metre to the goal, '
             '1/s.'),
        spec('prior.std_angular', 'Pose prior: turn-rate std at zero heading error, rad/s.'),
        spec('prior.std_angular_per_rad', 'Pose prior: growth of that std per radian of heading '
             'error, 1/s.'),
        spec('prior.goal_radius_m', 'Pose prior: distance, m, over which steering turns from the '
             'goal point to the goal yaw.'),
        spec('prior.k_joint', 'Joint prior: joint velocity per unit of position error, 1/s.'),
        spec('prior.std_joint', 'Joint prior: joint-velocity std at the goal, rad/s or m/s.'),
        spec('prior.std_joint_per_rad', 'Joint prior: growth of that std per unit of position '
             'error, 1/s.'),
        spec('prior.joint_names', 'Joint prior: commanded joints in command order.',
             element=str),
        spec('prior.path_lookahead_m', 'Path prior: pure-pursuit look-ahead along the path, m.'),
        spec('prior.path_speed_m_s', 'Path prior: forward speed along the path, m/s.'),
        spec('prior.path_std_linear', 'Path prior: forward-speed std where the path bends, on '
             'it and fresh, m/s.'),
        spec('prior.path_std_angular', 'Path prior: turn-rate std where the path bends, on it '
             'and fresh, rad/s.'),
        spec('prior.path_open_std_factor', 'Path prior: std multiplier where the path runs '
             'straight (open space).', low=1.0, high=FLOAT_MAX),
        spec('prior.path_bend_window_m', 'Path prior: arc length, m, around the closest point '
             'whose bending marks a constrained stretch.'),
        spec('prior.path_std_per_m_cross_track', 'Path prior: relative std growth per metre off '
             'the path, 1/m.'),
        spec('prior.path_std_per_s_age', 'Path prior: relative std growth per second of path '
             'age, 1/s.'),
        spec('prior.path_timeout_s', 'Path prior: older paths are dropped and the pose prior '
             'stands in, s.'),
        spec('action_mode', 'Command from the composed mean (deterministic) or a seeded sample '
             'of the composed Gaussian.', choices=ActionMode),
        spec('seed', 'Seed of the sampler in sample mode.', low=0, high=2**31 - 1),
    ]


PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec('actor.manifest', '', 'Frozen actor manifest YAML (absolute, or relative to '
                  "this package's share folder); empty: the default actor in models/.",
                  read_only=True),
    ParameterSpec('actor.bundle_sha256', '', 'SHA-256 of the certified bundle, the manifest '
                  'and its model files together (`poe-steer inspect` prints it): the node '
                  'refuses to start with any other. Empty: not pinned (a warning at start-up).',
                  read_only=True),
    ParameterSpec('actor.device', 'auto', 'Where the actor runs: CUDA when available, else CPU.',
                  read_only=True, choices=DEVICES),
    ParameterSpec('actor.format', 'auto', 'Which file of the manifest runs when it certifies the '
                  'actor in several formats: auto runs one whose runtime can use the GPU when '
                  'actor.device allows and one is present, else ONNX on the CPU (about half the '
                  'TorchScript forward time for small networks); or name the format.',
                  read_only=True, choices=ACTOR_FORMATS),
    ParameterSpec('actor.num_threads', 1, 'CPU threads of the actor forward pass.',
                  read_only=True, low=1, high=256),
    ParameterSpec('prior.model_file', '', 'TorchScript learned goal prior f(obs, goal) -> (mean, '
                  'log_std), loaded at start-up; empty: none.', read_only=True),
    ParameterSpec('state.type', 'odometry', 'Message type of the state input.', read_only=True,
                  choices=StateType),
    ParameterSpec('command.type', 'twist', 'Message type of the command output.',
                  read_only=True, choices=CommandType),
    ParameterSpec('control.rate_hz', 20.0, 'Control loop rate on the node clock, Hz.',
                  read_only=True, low=0.1, high=5000.0),
    ParameterSpec('control.trigger', 'timer', 'What starts a control tick: the control.rate_hz '
                  'timer on the latest state, or each arriving state message (lowest latency; '
                  'the timer then only sends the safe command when the state goes stale).',
                  read_only=True, choices=Trigger),
    ParameterSpec('control.state_timeout_s', 0.5, 'State older than this, s, by its arrival or '
                  'by its own header stamp (when stamped, i.e. non-zero), is stale: the safe '
                  'command is sent until fresh state arrives. At most '
                  'limits.state_timeout_max_s.', low=0.001, high=STATE_TIMEOUT_MAX_S),
    ParameterSpec('control.stamp_tolerance_s', 0.05, 'State stamped more than this, s, after '
                  "the node clock's now is stale (clocks never agree exactly). At most "
                  'limits.stamp_tolerance_max_s.', low=0.0, high=STAMP_TOLERANCE_MAX_S),
    ParameterSpec('scan.max_age_s', 0.3, 'A scan older than this, s, is stale: the safe '
                  'command is sent (actors with scan.<i> fields only).', low=0.001, high=3600.0),
    ParameterSpec('support.std_gain', 1.0, "Off the actor's training support, its std is "
                  'widened by 1 + gain * (distance ratio - 1), so the prior takes over there '
                  '(actors with a support model only); 0: the score is published, the std '
                  'left alone.', low=0.0, high=1000.0),
    ParameterSpec('control.safe_command', 'zero', 'Command sent while the state is stale or '
                  'missing: zero (stop), or hold the last command for at most '
                  'limits.hold_max_s, then zero. Shutdown always sends zero.',
                  choices=SafeCommand),
    ParameterSpec('status.max_rate_hz', 50.0, 'Most ~/status messages per second on the node '
                  'clock; a tick in between publishes one only when it sends the safe command or '
                  'a fallback. 0: every tick.', read_only=True, low=0.0, high=5000.0),
    ParameterSpec('limits.action_names', [], 'The action names the limits.* lists refer to, in '
                  "their order: must equal the actor manifest's action.names, else the node "
                  'refuses to start. Required when any of limits.command_low, '
                  'limits.command_high, limits.max_rate_per_s is set.', read_only=True,
                  element=str),
    ParameterSpec('limits.command_low', [], 'Lower command bound per action, command units; '
                  "empty: the actor manifest's bounds. Only narrows them.", read_only=True),
    ParameterSpec('limits.command_high', [], 'Upper command bound per action, command units; '
                  "empty: the actor manifest's bounds. Only narrows them.", read_only=True),
    ParameterSpec('limits.max_rate_per_s', [], 'Largest command change per second per action, '
                  'command units/s; empty: no rate limit.', read_only=True),
    ParameterSpec('limits.alpha_max', 1.0, 'No setting can give the prior a larger weight.',
                  read_only=True, low=0.0, high=1.0),
    ParameterSpec('limits.fallback', 'hold', 'Command sent when composition is non-finite.',
                  read_only=True, choices=Fallback),
    ParameterSpec('limits.hold_max_s', 1.0, 'Longest time, s, control.safe_command hold keeps '
                  'the last command while the state is stale or missing; zero after it.',
                  read_only=True, low=0.0, high=3600.0),
    ParameterSpec('limits.state_timeout_max_s', 1.0, 'Largest control.state_timeout_s any '
                  'setting may reach, s.', read_only=True, low=0.001, high=STATE_TIMEOUT_MAX_S),
    ParameterSpec('limits.stamp_tolerance_max_s', 0.1, 'Largest control.stamp_tolerance_s any '
                  'setting may reach, s.', read_only=True, low=0.0, high=STAMP_TOLERANCE_MAX_S),
    ParameterSpec('limits.goal_prior_max_s', 10.0, 'Longest validity of a goal_prior from its '
                  'receipt, s: a later expiry is cut to it.', read_only=True, low=0.0,
                  high=3600.0),
    ParameterSpec('goal', [], 'Goal: [x m, y m] or [x m, y m, yaw rad] in the state frame for '
                  'a mobile base, or joint positions; empty: no goal, the safe command is sent.'),
    *_steering_specs(),
)

SPECS = {spec.name: spec for spec in PARAMETERS}


def steering_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Map ROS parameter values onto SteeringConfig's names (``steering.alpha`` -> ``alpha``)."""
    known = set(SteeringConfig().to_parameters())
    mapped = {}
    for name, value in values.items():
        key = name[len(STEERING_PREFIX):] if name.startswith(STEERING_PREFIX) else name
        if key in known:
            mapped[key] = tuple(value) if isinstance(value, list) else value
    return mapped


def steering_config(values: Mapping[str, Any],
                    base: SteeringConfig | None = None) -> SteeringConfig:
    """Build the SteeringConfig ``values`` describe on top of ``base``; ValueError if invalid."""
    return SteeringConfig.from_parameters(steering_values(values), base)


def declare(node: Any, specs: Iterable[ParameterSpec] = PARAMETERS) -> dict[str, Any]:
    """
    Declare every parameter on ``node`` with a value; return the values (lists for arrays).

    rclpy infers a declared value's type from the value, and an empty list has none (it would be
    a byte array), so array parameters without a value are declared by type and then given an
    empty array of that type: a parameter left unset would make rclpy answer ``ros2 param
    dump``'s batch request with nothing at all.
    """
    values = {}
    for spec in specs:
        default = spec.default
        if default == [] or default == ():
            parameter = node.declare_parameter(spec.name, Parameter.Type(spec.ros_type),
                                               spec.descriptor())
            if parameter.value is None:
                # The one rclpy entry point that sets a typed value without the read-only check.
                node._set_parameters_atomically_common(
                    [Parameter(spec.name, Parameter.Type(spec.ros_type), [])],
                    {spec.name: node.describe_parameter(spec.name)})
                parameter = node.get_parameter(spec.name)
        else:
            parameter = node.declare_parameter(spec.name, default, spec.descriptor())
        values[spec.name] = list(parameter.value) if isinstance(
            parameter.value, (list, tuple, array.array)) else parameter.value
    return values


def markdown_table(specs: Iterable[ParameterSpec] = PARAMETERS) -> str:
    """Return the parameter reference of docs/parameters.md (regenerate: python -m this module)."""
    lines = ['| parameter | default | read-only | range | description |',
             '| --- | --- | --- | --- | --- |']
    for spec in specs:
        value_range = '' if spec.low is None else f'[{spec.low:g}, {spec.high:g}]'
        lines.append(f'| `{spec.name}` | `{spec.default!r}` | {"yes" if spec.read_only else ""} '
                     f'| {value_range} | {spec.descriptor().description} |')
    return '\n'.join(lines)


if __name__ == '__main__':
    print('# Parameters of the steering node `poe_steer`\n\n'
          'Generated from `poe_steer_ros/ros/parameters.py` '
          '(`python -m poe_steer_ros.ros.parameters > docs/parameters.md`). Read-only '
          'parameters need a restart; the others change live with `ros2 param set`. '
          'Invalid sets are rejected with a reason and the old value stays.\n')
    print(markdown_table())
