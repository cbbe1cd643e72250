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

"""Message conversions of the steering node, without a running node."""

import math

from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from hypothesis import given, strategies as st
from nav_msgs.msg import Odometry, Path
import numpy as np
from poe_steer_msgs.msg import GoalPrior
from poe_steer_ros.core.interfaces import BASE_V, BASE_W, BASE_X, BASE_Y, BASE_YAW, Space
from poe_steer_ros.ros import adapters
import pytest
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray
import transforms3d


def orientation_of(yaw: float):
    w, x, y, z = transforms3d.euler.euler2quat(0.0, 0.0, yaw)
    return x, y, z, w


@given(st.floats(-math.pi + 1e-6, math.pi - 1e-6))
def test_yaw_round_trips_through_a_quaternion(yaw: float) -> None:
    assert adapters.yaw_from_quaternion(*orientation_of(yaw)) == pytest.approx(yaw, abs=1e-9)


quaternion_part = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@given(quaternion_part, quaternion_part, quaternion_part, quaternion_part)
def test_yaw_equals_transforms3d_for_any_usable_quaternion(x: float, y: float, z: float,
                                                           w: float) -> None:
    if w * w + x * x + y * y + z * z < np.finfo(np.float64).eps:
        with pytest.raises(adapters.MessageError, match='not usable'):
            adapters.yaw_from_quaternion(x, y, z, w)
        return
    assert adapters.yaw_from_quaternion(x, y, z, w) == transforms3d.euler.quat2euler(
        (w, x, y, z))[2]


@pytest.mark.parametrize('pitch', [math.pi / 2, -math.pi / 2])
def test_yaw_follows_transforms3d_at_gimbal_lock(pitch: float) -> None:
    w, x, y, z = transforms3d.euler.euler2quat(0.3, pitch, 1.1)
    expected = transforms3d.euler.quat2euler((w, x, y, z))[2]
    assert adapters.yaw_from_quaternion(x, y, z, w) == pytest.approx(expected, abs=1e-7)


def test_odometry_gives_pose_and_body_velocities() -> None:
    message = Odometry()
    message.pose.pose.position.x, message.pose.pose.position.y = 1.5, -2.0
    (message.pose.pose.orientation.x, message.pose.pose.orientation.y,
     message.pose.pose.orientation.z, message.pose.pose.orientation.w) = orientation_of(0.7)
    message.twist.twist.linear.x, message.twist.twist.angular.z = 0.3, -0.4
    state = adapters.odometry_to_state(message)
    assert state[BASE_X] == 1.5 and state[BASE_Y] == -2.0
    assert state[BASE_YAW] == pytest.approx(0.7)
    assert state[BASE_V] == 0.3 and state[BASE_W] == -0.4


def test_zero_quaternion_is_refused() -> None:
    message = Odometry()
    message.pose.pose.orientation.w = 0.0
    with pytest.raises(adapters.MessageError, match='quaternion'):
        adapters.odometry_to_state(message)


def test_joint_state_is_keyed_by_name_and_checked_for_sizes() -> None:
    state = adapters.joint_state_to_state(
        JointState(name=['b', 'a'], position=[0.1, 0.2], velocity=[1.0, 2.0]))
    assert state == {'joint.position.b': 0.1, 'joint.position.a': 0.2,
                     'joint.velocity.b': 1.0, 'joint.velocity.a': 2.0}
    with pytest.raises(adapters.MessageError, match='positions'):
        adapters.joint_state_to_state(JointState(name=['a', 'b'], position=[0.1]))
    with pytest.raises(adapters.MessageError, match='repeat'):
        adapters.joint_state_to_state(JointState(name=['a', 'a'], position=[0.1, 0.2]))


def test_array_and_non_finite_state() -> None:
    state = adapters.array_to_state(Float64MultiArray(data=[1.0, float('nan')]))
    assert list(state) == ['array.0', 'array.1']
    with pytest.raises(adapters.MessageError, match='array.1'):
        adapters.check_finite_state(state)


def test_pose_goal_with_and_without_yaw() -> None:
    message = PoseStamped()
    message.pose.position.x, message.pose.position.y = 3.0, 1.0
    (message.pose.orientation.x, message.pose.orientation.y,
     message.pose.orientation.z, message.pose.orientation.w) = orientation_of(-1.2)
    assert adapters.pose_to_goal(message, 2) == [3.0, 1.0]
    assert adapters.pose_to_goal(message, 3) == pytest.approx([3.0, 1.0, -1.2])
    with pytest.raises(adapters.MessageError, match='expects 4'):
        adapters.pose_to_goal(message, 4)


def prior_message(**fields) -> GoalPrior:
    message = GoalPrior(space=GoalPrior.SPACE_COMMAND, mean=[0.5, 0.1], std=[0.2, 0.3],
                        weight=float('nan'))
    for name, value in fields.items():
        setattr(message, name, value)
    return message


def test_goal_prior_diagonal_and_covariance() -> None:
    mean, std, space, weight = adapters.goal_prior_to_gaussian(prior_message(), 2)
    assert list(mean) == [0.5, 0.1] and list(std) == [0.2, 0.3]
    assert space is Space.COMMAND and weight is None
    mean, std, space, weight = adapters.goal_prior_to_gaussian(
        prior_message(std=[], covariance=[0.04, 0.01, 0.01, 0.09], weight=0.4,
                      space=GoalPrior.SPACE_PRE_SQUASH), 2)
    assert list(std) == pytest.approx([0.2, 0.3])
    assert space is Space.PRE_SQUASH and weight == 0.4


@pytest.mark.parametrize('fields, reason', [
    ({'mean': [0.5]}, 'mean must hold 2'),
    ({'mean': [0.5, float('inf')]}, 'mean must hold 2'),
    ({'std': [0.0, 0.3]}, 'positive'),
    ({'std': [-1.0, 0.3]}, 'positive'),
    ({'std': [float('nan'), 0.3]}, 'positive'),
    ({'std': [], 'covariance': [1.0, 2.0, 2.0, 1.0]}, 'positive definite'),
    ({'covariance': [1.0, 0.0, 0.0, 1.0]}, 'not both'),
    ({'weight': 1.5}, 'outside'),
    ({'space': 7}, 'space'),
])
def test_goal_prior_refusals_name_the_reason(fields: dict, reason: str) -> None:
    with pytest.raises(adapters.MessageError, match=reason):
        adapters.goal_prior_to_gaussian(prior_message(**fields), 2)


def test_commands_fill_each_message_type() -> None:
    twist = Twist()
    adapters.fill_command(twist, np.array([0.4, -0.3]), ['linear_x', 'angular_z'])
    assert twist.linear.x == 0.4 and twist.angular.z == -0.3
    stamped = TwistStamped()
    adapters.fill_command(stamped, [0.1, 0.2], ['linear_x', 'angular_z'])
    assert stamped.twist.linear.x == 0.1 and stamped.twist.angular.z == 0.2
    array = Float64MultiArray()
    adapters.fill_command(array, [1.0, 2.0], ['a', 'b'])
    assert list(array.data) == [1.0, 2.0]
    joints = JointState()
    adapters.fill_command(joints, [0.5], ['shoulder'])
    assert list(joints.name) == ['shoulder'] and list(joints.velocity) == [0.5]


def test_twist_refuses_actions_it_cannot_carry() -> None:
    adapters.check_command_names(adapters.CommandType.TWIST, ['linear_x', 'angular_z'])
    with pytest.raises(adapters.MessageError, match='shoulder'):
        adapters.check_command_names(adapters.CommandType.TWIST_STAMPED, ['shoulder'])


def test_time_conversions_round_trip() -> None:
    stamp = adapters.seconds_to_time(12.345678901)
    assert stamp.sec == 12 and adapters.time_to_seconds(stamp) == pytest.approx(12.345678901)


def test_path_gives_planar_waypoints_and_refuses_non_finite_ones() -> None:
    message = Path()
    assert adapters.path_to_points(message).shape == (0, 2)
    for x, y in ((0.0, 0.0), (1.0, 0.5)):
        pose = PoseStamped()
        pose.pose.position.x, pose.pose.position.y = x, y
        message.poses.append(pose)
    np.testing.assert_array_equal(adapters.path_to_points(message), [[0.0, 0.0], [1.0, 0.5]])
    message.poses[1].pose.position.y = math.nan
    with pytest.raises(adapters.MessageError, match='non-finite'):
        adapters.path_to_points(message)
