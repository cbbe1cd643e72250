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
Conversions between ROS messages and the core's plain numbers, in one place.

Nothing here holds state or touches a node: every function maps a message to floats/arrays or
back, so each is unit-tested on its own and the node's callbacks stay a few lines long.
"""

from __future__ import annotations

import enum
import math
from typing import Sequence, TYPE_CHECKING

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from nav_msgs.msg import Odometry, Path
import numpy as np
from poe_steer_msgs.msg import GoalPrior, SteeringStatus
from poe_steer_ros.core.interfaces import (array_key, BASE_V, BASE_W, BASE_X, BASE_Y, BASE_YAW,
                                           joint_position_key, joint_velocity_key, Space)
from poe_steer_ros.core.scan import ScanBinning, ScanError, ScanGeometry
from sensor_msgs.msg import JointState, LaserScan
from std_msgs.msg import Float64MultiArray

if TYPE_CHECKING:  # the steerer (numba kernels) is not needed to convert messages
    from poe_steer_ros.core.steerer import Telemetry


class StateType(str, enum.Enum):
    """Message type of the ``state`` input (read-only parameter ``state.type``)."""

    ODOMETRY = 'odometry'
    JOINT_STATE = 'joint_state'
    ARRAY = 'array'


class CommandType(str, enum.Enum):
    """Message type of the ``command`` output (read-only parameter ``command.type``)."""

    TWIST = 'twist'
    TWIST_STAMPED = 'twist_stamped'
    ARRAY = 'array'
    JOINT_STATE = 'joint_state'


STATE_MESSAGES = {StateType.ODOMETRY: Odometry, StateType.JOINT_STATE: JointState,
                  StateType.ARRAY: Float64MultiArray}
COMMAND_MESSAGES = {CommandType.TWIST: Twist, CommandType.TWIST_STAMPED: TwistStamped,
                    CommandType.ARRAY: Float64MultiArray, CommandType.JOINT_STATE: JointState}

TWIST_FIELDS = ('linear_x', 'linear_y', 'linear_z', 'angular_x', 'angular_y', 'angular_z')
"""Action names a Twist command understands, e.g. ``linear_x`` -> ``twist.linear.x``."""


_QUATERNION_NORM_SQ_MIN = float(np.finfo(np.float64).eps)
"""Below this squared norm transforms3d treats a quaternion as the identity; we refuse it."""
_GIMBAL_LOCK_EPS = 4.0 * float(np.finfo(np.float64).eps)
"""transforms3d's threshold on cos(pitch) under which it sets the yaw to 0."""


class MessageError(ValueError):
    """A message that cannot be used; the text says why."""


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """
    Heading (rad) of an orientation quaternion: the static-axis sxyz yaw of transforms3d.

    ``transforms3d.euler.quat2euler`` builds the whole rotation matrix and all three angles
    (about 10 us); each state message needs only the yaw, so this evaluates the two matrix
    entries it reads, with the same operations and the same gimbal-lock rule (yaw 0 when the
    pitch is +-90 deg). The tests hold it equal to transforms3d.

    :raises MessageError: for a non-finite or (near) zero quaternion.
    """
    norm_sq = w * w + x * x + y * y + z * z
    if not math.isfinite(norm_sq) or norm_sq < _QUATERNION_NORM_SQ_MIN:
        raise MessageError(f'orientation quaternion is not usable: ({x}, {y}, {z}, {w})')
    scale = 2.0 / norm_sq
    scaled_y, scaled_z = y * scale, z * scale
    cos_part = 1.0 - (y * scaled_y + z * scaled_z)
    sin_part = x * scaled_y + w * scaled_z
    if math.sqrt(cos_part * cos_part + sin_part * sin_part) <= _GIMBAL_LOCK_EPS:
        return 0.0
    return math.atan2(sin_part, cos_part)


def odometry_to_state(message: Odometry) -> dict[str, float]:
    """Planar base state from Odometry: pose in the header frame, velocities in the child frame."""
    pose = message.pose.pose
    orientation = pose.orientation
    return {
        BASE_X: pose.position.x,
        BASE_Y: pose.position.y,
        BASE_YAW: yaw_from_quaternion(orientation.x, orientation.y, orientation.z, orientation.w),
        BASE_V: message.twist.twist.linear.x,
        BASE_W: message.twist.twist.angular.z,
    }


def joint_state_to_state(message: JointState) -> dict[str, float]:
    """Joint positions and velocities keyed by joint name."""
    if len(set(message.name)) != len(message.name):
        raise MessageError(f'joint names repeat: {list(message.name)}')
    if len(message.position) != len(message.name):
        raise MessageError(
            f'{len(message.name)} joint names but {len(message.position)} positions')
    if message.velocity and len(message.velocity) != len(message.name):
        raise MessageError(
            f'{len(message.name)} joint names but {len(message.velocity)} velocities')
    state = {joint_position_key(name): float(value)
             for name, value in zip(message.name, message.position)}
    state.update({joint_velocity_key(name): float(value)
                  for name, value in zip(message.name, message.velocity)})
    return state


def array_to_state(message: Float64MultiArray) -> dict[str, float]:
    """Raw observation slots ``array.<i>``."""
    return {array_key(index): float(value) for index, value in enumerate(message.data)}


def laser_scan_to_state(message: LaserScan, binning: ScanBinning) -> dict[str, float]:
    """
    Scan sector features ``scan.<i>`` of a LaserScan (``core.scan``).

    :raises MessageError: for NaN ranges, an angle layout that leaves a sector without a ray, or
        ``angle_max`` that disagrees with ``angle_min``, ``angle_increment`` and the range count.
    """
    count = len(message.ranges)
    geometry = ScanGeometry(message.angle_min, message.angle_increment, count)
    expected_max = message.angle_min + message.angle_increment * (count - 1)
    if count and not math.isclose(message.angle_max, expected_max, abs_tol=1e-3):
        raise MessageError(f'scan has {count} ranges from {message.angle_min:.4f} rad every '
                           f'{message.angle_increment:.5f} rad, which ends at '
                           f'{expected_max:.4f} rad, but angle_max is {message.angle_max:.4f}')
    try:
        return binning.state(geometry, np.asarray(message.ranges), message.range_min,
                             message.range_max)
    except ScanError as error:
        raise MessageError(str(error)) from None


STATE_CONVERTERS = {StateType.ODOMETRY: odometry_to_state,
                    StateType.JOINT_STATE: joint_state_to_state,
                    StateType.ARRAY: array_to_state}


def check_finite_state(state: dict[str, float]) -> None:
    """Refuse a state with NaN or inf values, naming the first offending key."""
    for key, value in state.items():
        if not math.isfinite(value):
            raise MessageError(f'state value {key} is {value}')


def check_state(state: dict[str, float], required_keys: Sequence[str],
                array_size: int | None = None) -> None:
    """
    Refuse a converted state the actor cannot use: non-finite, missing keys, wrong array size.

    :param array_size: values an array state must have (None: not an array state).
    :raises MessageError: saying what is wrong.
    """
    check_finite_state(state)
    missing = [key for key in required_keys if key not in state]
    if missing:
        raise MessageError(f'state lacks {missing}')
    if array_size is not None and len(state) != array_size:
        raise MessageError(f'array state has {len(state)} values, the actor observes '
                           f'{array_size}')


def fill_status(status: SteeringStatus, telemetry: Telemetry) -> None:
    """Copy what one steered tick did into ``status`` (plain lists, pre-squash space)."""
    status.alpha, status.beta = telemetry.alpha, telemetry.beta
    status.kl_to_actor = telemetry.kl_to_actor
    status.prior_active = telemetry.prior_active
    status.stalled = telemetry.stalled
    status.effective_prior_weight = telemetry.prior_weight.tolist()
    status.actor_mean = telemetry.actor_mean.tolist()
    status.actor_std = telemetry.actor_std.tolist()
    if telemetry.prior_mean is not None and telemetry.prior_std is not None:
        status.prior_mean = telemetry.prior_mean.tolist()
        status.prior_std = telemetry.prior_std.tolist()
    status.composed_mean = telemetry.composed_mean.tolist()
    status.composed_std = telemetry.composed_std.tolist()
    status.fallback_used = telemetry.fallback_used
    status.command_clamped = telemetry.clamped


def pose_to_goal(message: PoseStamped, goal_dim: int) -> list[float]:
    """Goal ``[x, y]`` or ``[x, y, yaw]`` (m, m, rad) from a pose, as RViz's goal tool sends it."""
    if goal_dim not in (2, 3):
        raise MessageError(f'a pose gives a 2- or 3-value goal, this node expects {goal_dim}')
    position, orientation = message.pose.position, message.pose.orientation
    goal = [position.x, position.y]
    if goal_dim == 3:
        goal.append(yaw_from_quaternion(orientation.x, orientation.y, orientation.z,
                                        orientation.w))
    if not all(math.isfinite(value) for value in goal):
        raise MessageError(f'goal pose is not finite: {goal}')
    return goal


def path_to_points(message: Path) -> np.ndarray:
    """Return a path's planar waypoints as an ``(n, 2)`` array (m); raise if non-finite."""
    points = np.array([(pose.pose.position.x, pose.pose.position.y) for pose in message.poses],
                      dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(points).all():
        raise MessageError('path has non-finite waypoints')
    return points


def time_to_seconds(stamp: Time) -> float:
    """
    Seconds of a ``builtin_interfaces/Time``.

    :raises MessageError: for ``nanosec`` >= 1e9 (not a time: a second would hide in it).
    """
    if stamp.nanosec >= 1_000_000_000:
        raise MessageError(f'time nanosec {stamp.nanosec} is not below 1e9')
    return float(stamp.sec + stamp.nanosec * 1e-9)


def seconds_to_time(seconds: float) -> Time:
    """``builtin_interfaces/Time`` of a time in seconds."""
    nanoseconds = int(round(seconds * 1e9))
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def goal_prior_to_gaussian(message: GoalPrior,
                           action_dim: int) -> tuple[np.ndarray, np.ndarray, Space, float | None]:
    """
    Validate an external prior and return (mean, std, space, weight or None).

    A full covariance is reduced to its diagonal: the core composes diagonal Gaussians per
    action dimension, and the diagonal is what an axis-aligned envelope acts on.

    :raises MessageError: wrong dimension, non-finite values, non-positive variance, a
        covariance that is not symmetric positive definite, an unknown space or a weight out of
        [0, 1].
    """
    spaces = {GoalPrior.SPACE_COMMAND: Space.COMMAND, GoalPrior.SPACE_PRE_SQUASH: Space.PRE_SQUASH}
    if message.space not in spaces:
        raise MessageError(f'space {message.space} is neither SPACE_COMMAND nor SPACE_PRE_SQUASH')
    mean = np.asarray(message.mean, dtype=float)
    if mean.shape != (action_dim,) or not np.all(np.isfinite(mean)):
        raise MessageError(f'mean must hold {action_dim} finite values, got {list(mean)}')
    if len(message.std) and len(message.covariance):
        raise MessageError('give either std or covariance, not both')
    if len(message.covariance):
        covariance = np.asarray(message.covariance, dtype=float)
        if covariance.size != action_dim * action_dim or not np.all(np.isfinite(covariance)):
            raise MessageError(f'covariance must hold {action_dim}x{action_dim} finite values')
        covariance = covariance.reshape(action_dim, action_dim)
        if not np.allclose(covariance, covariance.T) or np.linalg.eigvalsh(covariance).min() <= 0:
            raise MessageError('covariance is not symmetric positive definite')
        std = np.sqrt(np.diag(covariance))
    else:
        std = np.asarray(message.std, dtype=float)
        if std.shape != (action_dim,) or not np.all(np.isfinite(std)) or np.any(std <= 0):
            raise MessageError(
                f'std must hold {action_dim} finite positive values, got {list(std)}')
    weight = None if math.isnan(message.weight) else float(message.weight)
    if weight is not None and not 0.0 <= weight <= 1.0:
        raise MessageError(f'weight {weight} is outside [0, 1] (NaN keeps steering.alpha)')
    return mean, std, spaces[message.space], weight


def fill_command(message: object, command: Sequence[float] | np.ndarray,
                 action_names: Sequence[str]) -> None:
    """Write a command vector into a preallocated command message."""
    if isinstance(message, (Twist, TwistStamped)):
        twist = message.twist if isinstance(message, TwistStamped) else message
        for name, value in zip(action_names, command):
            group, axis = name.split('_')
            setattr(getattr(twist, group), axis, float(value))
    elif isinstance(message, Float64MultiArray):
        message.data = [float(value) for value in command]
    elif isinstance(message, JointState):
        message.name = list(action_names)
        message.velocity = [float(value) for value in command]
    else:
        raise TypeError(f'unsupported command message {type(message).__name__}')


def check_command_names(command_type: CommandType, action_names: Sequence[str]) -> None:
    """Refuse at start-up an actor whose action names the command message cannot carry."""
    if command_type in (CommandType.TWIST, CommandType.TWIST_STAMPED):
        unknown = [name for name in action_names if name not in TWIST_FIELDS]
        if unknown:
            raise MessageError(f'command.type {command_type.value} carries {TWIST_FIELDS}; '
                               f'the actor has actions {unknown}')
