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
Hypothesis strategies for what can arrive at the steering node: messages and parameter sets.

Each strategy mixes plausible values (so that many inputs pass the node's checks and reach the
steering pipeline) with hostile ones: NaN, infinities, huge and subnormal numbers, wrong sizes,
unknown or missing joint names, stamps at the ends of their ranges, priors with zero, negative
or NaN variance, expired priors, wrong parameter types, out-of-range values, read-only and
unknown parameter names.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any, Callable, Sequence

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from hypothesis import given, HealthCheck, Phase, seed, settings, Verbosity
from hypothesis import strategies as st
from nav_msgs.msg import Odometry
from poe_steer_msgs.msg import GoalPrior
from poe_steer_ros.ros.adapters import seconds_to_time
from poe_steer_ros.ros.parameters import ParameterSpec, SPECS
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

EXTREME_FLOATS = (math.nan, math.inf, -math.inf, 1e308, -1e308, 1e154, 5e-324, -0.0)
"""Values that break naive arithmetic: overflow on squaring, underflow, signed zero."""
INT64 = (-2**63, 2**63 - 1)
RCLPY_NAMES = ('use_sim_time', 'start_type_description_service',
               'qos_overrides./parameter_events.publisher.depth')
"""
Names rclpy uses: the first two are declared on every node (the second read-only), the QoS
override only where a publisher allows it. None may change the steering node live.
"""


def texts(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Return any text a ROS string can carry (UTF-8: no lone surrogates), NUL included."""
    return st.text(st.characters(exclude_categories=('Cs',)), min_size=min_size,
                   max_size=max_size)


def numbers(plausible: float = 5.0) -> st.SearchStrategy[float]:
    """Return floats: mostly within +-``plausible``, else anything a float64 can hold."""
    return st.one_of(st.floats(-plausible, plausible), st.floats(-plausible, plausible),
                     st.sampled_from(EXTREME_FLOATS), st.floats())


def vectors(size: int, plausible: float = 5.0) -> st.SearchStrategy[list[float]]:
    """Return lists of ``numbers``: mostly ``size`` long, sometimes any length up to 2 * size."""
    return st.one_of(st.lists(numbers(plausible), min_size=size, max_size=size),
                     st.lists(numbers(plausible), max_size=2 * size + 1))


def stamps() -> st.SearchStrategy[Time]:
    """Return stamps anywhere in builtin_interfaces/Time, including invalid nanoseconds."""
    return st.builds(Time, sec=st.integers(-2**31, 2**31 - 1),
                     nanosec=st.one_of(st.integers(0, 999_999_999), st.integers(0, 2**32 - 1)))


def frame_ids() -> st.SearchStrategy[str]:
    """Return frame ids: the state's ``odom``, other frames, empty and arbitrary text."""
    return st.one_of(st.just('odom'), st.just('odom'), st.sampled_from(('', 'map', 'base_link')),
                     texts(12))


@st.composite
def odometry(draw: Callable[..., Any]) -> Odometry:
    """Return nav_msgs/Odometry: a planar pose and twist, with hostile values mixed in."""
    message = Odometry()
    message.header.stamp = draw(stamps())
    message.header.frame_id = draw(frame_ids())
    position = message.pose.pose.position
    position.x, position.y, position.z = (draw(numbers()) for _ in range(3))
    orientation = message.pose.pose.orientation
    if draw(st.booleans()):
        yaw = draw(st.floats(-math.pi, math.pi))
        orientation.z, orientation.w = math.sin(yaw / 2.0), math.cos(yaw / 2.0)
    else:
        orientation.x, orientation.y, orientation.z, orientation.w = (
            draw(numbers(1.0)) for _ in range(4))
    message.twist.twist.linear.x = draw(numbers(1.0))
    message.twist.twist.angular.z = draw(numbers(2.0))
    return message


@st.composite
def joint_states(draw: Callable[..., Any], joints: Sequence[str]) -> JointState:
    """Return sensor_msgs/JointState: known, unknown, repeated or missing names; any sizes."""
    message = JointState()
    message.header.stamp = draw(stamps())
    names = st.one_of(st.sampled_from(tuple(joints) + ('wrist', '', f'{joints[0]} ')),
                      texts(8))
    message.name = draw(st.one_of(st.permutations(list(joints)), st.permutations(list(joints)),
                                  st.lists(names, max_size=len(joints) + 2)))
    size = len(message.name)
    message.position = draw(vectors(size))
    message.velocity = draw(st.one_of(st.just([]), vectors(size)))
    message.effort = draw(st.one_of(st.just([]), vectors(size)))
    return message


def arrays(size: int) -> st.SearchStrategy[Float64MultiArray]:
    """Return std_msgs/Float64MultiArray with ``size`` values or a wrong number of them."""
    return st.builds(Float64MultiArray, data=vectors(size))


@st.composite
def goal_poses(draw: Callable[..., Any]) -> PoseStamped:
    """Return RViz-style goals: any frame, position and (possibly degenerate) orientation."""
    message = PoseStamped()
    message.header.stamp = draw(stamps())
    message.header.frame_id = draw(frame_ids())
    message.pose.position.x, message.pose.position.y = draw(numbers()), draw(numbers())
    orientation = message.pose.orientation
    orientation.x, orientation.y, orientation.z, orientation.w = (
        draw(numbers(1.0)) for _ in range(4))
    return message


@st.composite
def goal_priors(draw: Callable[..., Any], action_dim: int,
                now_s: Callable[[], float]) -> GoalPrior:
    """
    Return GoalPrior messages: good ones, and every way a prior can be wrong.

    :param action_dim: the node's number of actions (the right dimension).
    :param now_s: the node clock's time, s; expiries are drawn relative to it, from long past
        to far future, or anywhere in ``builtin_interfaces/Time``.
    """
    message = GoalPrior()
    message.header.stamp = draw(stamps())
    message.space = draw(st.one_of(st.sampled_from((GoalPrior.SPACE_COMMAND,
                                                    GoalPrior.SPACE_PRE_SQUASH)),
                                   st.integers(0, 255)))
    message.mean = draw(vectors(action_dim, 1.0))
    variance = st.one_of(st.floats(0.001, 1.0), st.just(0.0), st.floats(max_value=0.0),
                         st.sampled_from(EXTREME_FLOATS))
    spread = draw(st.sampled_from(('std', 'covariance', 'both', 'neither')))
    if spread in ('std', 'both'):
        message.std = draw(st.one_of(st.lists(variance, min_size=action_dim,
                                              max_size=action_dim),
                                     st.lists(variance, max_size=2 * action_dim + 1)))
    if spread in ('covariance', 'both'):
        message.covariance = draw(vectors(action_dim * action_dim, 1.0))
    message.weight = draw(st.one_of(st.just(math.nan), st.floats(0.0, 1.0), numbers(1.5)))
    message.expiry = draw(st.one_of(
        st.floats(-1e6, 60.0).map(lambda offset_s: seconds_to_time(now_s() + offset_s)),
        st.floats(0.05, 2.0).map(lambda offset_s: seconds_to_time(now_s() + offset_s)),
        stamps()))
    return message


@dataclasses.dataclass(frozen=True)
class ParameterSet:
    """One request to the parameter services: the parameters and which service."""

    parameters: tuple[Parameter, ...]
    atomic: bool
    """True: SetParametersAtomically (all or none); False: SetParameters (one result each)."""


ANY_PARAMETER_VALUE = st.one_of(
    st.booleans(), st.integers(*INT64), st.floats(), texts(16),
    st.lists(st.floats(), min_size=1, max_size=5),
    st.lists(st.integers(*INT64), min_size=1, max_size=3),
    st.lists(texts(8), min_size=1, max_size=3), st.lists(st.booleans(), min_size=1, max_size=3))
"""A value of any ROS parameter type (byte arrays aside), any content."""
RUNTIME_NAMES = tuple(sorted(name for name, spec in SPECS.items() if not spec.read_only))
READ_ONLY_NAMES = tuple(sorted(name for name, spec in SPECS.items() if spec.read_only))


def in_range_values(spec: ParameterSpec, joints: Sequence[str]) -> st.SearchStrategy[Any]:
    """
    Return values of the declared type within the declared range and choices.

    The node may still refuse them (a prior kind that does not fit the actor, say).

    :param spec: the parameter's spec.
    :param joints: joint names a ``prior.joint_names`` value may draw from.
    """
    if spec.choices is not None:
        return st.sampled_from(list(spec.choice_values))
    if isinstance(spec.default, bool):
        return st.booleans()
    if isinstance(spec.default, int):
        return st.integers(int(spec.low or 0), int(spec.high or 10))
    if isinstance(spec.default, float):
        low = spec.low if spec.low is not None else -10.0
        return st.floats(low, min(spec.high, 10.0) if spec.high is not None else 10.0)
    if spec.element is str:
        return st.one_of(st.permutations(list(joints)),
                         st.lists(st.sampled_from(tuple(joints) + ('', 'wrist')), min_size=1,
                                  max_size=len(joints) + 1))
    if isinstance(spec.default, list):
        return st.lists(numbers(), min_size=1, max_size=4)
    return texts(24)


def parameter_values(spec: ParameterSpec | None,
                     joints: Sequence[str]) -> st.SearchStrategy[Any]:
    """
    Return values for one parameter: mostly in range, else at its edges or of any type.

    :param spec: the parameter's spec (None for names the node does not declare).
    :param joints: joint names a ``prior.joint_names`` value may draw from.
    """
    if spec is None:
        return ANY_PARAMETER_VALUE
    in_range = in_range_values(spec, joints)
    if isinstance(spec.default, float) and not isinstance(spec.default, bool):
        low = spec.low if spec.low is not None else -10.0
        high = spec.high if spec.high is not None else 10.0
        in_range = st.one_of(in_range, in_range, st.sampled_from(
            (low - 1.0, high * 1.5 + 1.0, math.nan, math.inf, -math.inf)))
    return st.one_of(in_range, in_range, in_range, ANY_PARAMETER_VALUE)


@st.composite
def parameter_sets(draw: Callable[..., Any], joints: Sequence[str]) -> ParameterSet:
    """
    Return one to three parameters for one request to the node's parameter services.

    Names are mostly the node's runtime ones, else read-only, rclpy's own or unknown.
    """
    runtime = st.sampled_from(RUNTIME_NAMES)
    names = st.one_of(runtime, runtime, runtime, st.sampled_from(READ_ONLY_NAMES),
                      st.sampled_from(RCLPY_NAMES), texts(12, min_size=1))
    count = draw(st.sampled_from((1, 1, 1, 2, 3)))
    chosen = draw(st.lists(names, min_size=count, max_size=count, unique=True))
    parameters = tuple(Parameter(name, value=draw(parameter_values(SPECS.get(name), joints)))
                       for name in chosen)
    return ParameterSet(parameters, atomic=len(parameters) > 1 and draw(st.booleans()))


@st.composite
def runtime_changes(draw: Callable[..., Any], joints: Sequence[str],
                    excluded: Sequence[str] = ()) -> ParameterSet:
    """Return one to three runtime parameters set to in-range values (an operator's changes)."""
    names = st.sampled_from([name for name in RUNTIME_NAMES if name not in excluded])
    chosen = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    parameters = tuple(Parameter(name, value=draw(in_range_values(SPECS[name], joints)))
                       for name in chosen)
    return ParameterSet(parameters, atomic=draw(st.booleans()))


class _Enough(Exception):
    """Raised by a generated example once the handler wants no more."""


def for_each_example(strategy: st.SearchStrategy[Any], handle: Callable[[Any], bool],
                     first_seed: int, batch: int = 1000) -> None:
    """
    Feed examples of ``strategy`` to ``handle`` until it returns False.

    Hypothesis is used as a generator only: no shrinking, no example database, no deadline.
    Seeds ``first_seed``, ``first_seed + 1``, ... give the same stream on every run. Once
    ``handle`` has returned False, hypothesis replays that example once: ``handle`` must keep
    returning False without acting again.

    :param strategy: what to draw.
    :param handle: called with each example; returns whether it wants another.
    :param first_seed: seed of the first batch of examples.
    :param batch: examples per hypothesis run (each run has its own seed).
    """
    def run_one(data: st.DataObject) -> None:
        if not handle(data.draw(strategy)):
            raise _Enough

    run_batch = settings(max_examples=batch, phases=[Phase.generate], database=None,
                         deadline=None, verbosity=Verbosity.quiet,
                         suppress_health_check=list(HealthCheck))(given(data=st.data())(run_one))
    for round_seed in itertools.count(first_seed):
        try:
            seed(round_seed)(run_batch)()
        except _Enough:
            return
