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

"""Observation layouts: named features -> raw observation vector."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
from poe_steer_ros.core.observation import ObservationError, ObservationLayout
import pytest
import transforms3d

GOAL_FEATURES = ('goal.dx_body', 'goal.dy_body', 'goal.distance', 'goal.bearing_cos',
                 'goal.bearing_sin')
coordinate = st.floats(-50.0, 50.0, allow_nan=False)
angle = st.floats(-math.pi, math.pi, allow_nan=False)


def base_state(x: float, y: float, yaw: float) -> dict[str, float]:
    return {'base.x': x, 'base.y': y, 'base.yaw': yaw, 'base.v': 0.3, 'base.w': -0.1}


def test_raw_state_keys_fill_the_vector_in_field_order() -> None:
    layout = ObservationLayout(['base.w', 'joint.velocity.elbow', 'array.2', 'base.v',
                                'joint.position.elbow'])
    state = {'base.v': 0.3, 'base.w': -0.1, 'joint.position.elbow': 1.2,
             'joint.velocity.elbow': -0.4, 'array.2': 7.0, 'unused': 9.0}
    np.testing.assert_array_equal(layout.build(state), [-0.1, -0.4, 7.0, 0.3, 1.2])
    assert layout.size == 5
    assert layout.goal_dim == 0


def test_yaw_features_are_cos_and_sin() -> None:
    layout = ObservationLayout(['base.yaw_cos', 'base.yaw_sin'])
    np.testing.assert_allclose(layout.build({'base.yaw': 2.0}), [math.cos(2.0), math.sin(2.0)])


@settings(max_examples=200, deadline=None)
@given(coordinate, coordinate, angle, coordinate, coordinate)
def test_goal_features_match_a_transforms3d_rotation(x: float, y: float, yaw: float,
                                                     goal_x: float, goal_y: float) -> None:
    layout = ObservationLayout(GOAL_FEATURES)
    dx_body, dy_body, distance, bearing_cos, bearing_sin = layout.build(
        base_state(x, y, yaw), [goal_x, goal_y])
    body_from_odom = transforms3d.euler.euler2mat(0.0, 0.0, yaw).T
    expected = body_from_odom @ np.array([goal_x - x, goal_y - y, 0.0])
    np.testing.assert_allclose([dx_body, dy_body], expected[:2], atol=1e-9)
    assert distance == pytest.approx(math.hypot(goal_x - x, goal_y - y), abs=1e-9)
    if distance > 1e-6:
        bearing = math.atan2(expected[1], expected[0])
        assert bearing_cos == pytest.approx(math.cos(bearing), abs=1e-9)
        assert bearing_sin == pytest.approx(math.sin(bearing), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(coordinate, coordinate, angle, coordinate, coordinate, angle, coordinate, coordinate)
def test_goal_features_are_invariant_under_a_rigid_motion_of_robot_and_goal(
        x: float, y: float, yaw: float, goal_x: float, goal_y: float, turn: float,
        shift_x: float, shift_y: float) -> None:
    layout = ObservationLayout(GOAL_FEATURES)
    rotation = transforms3d.euler.euler2mat(0.0, 0.0, turn)[:2, :2]
    moved_robot = rotation @ [x, y] + [shift_x, shift_y]
    moved_goal = rotation @ [goal_x, goal_y] + [shift_x, shift_y]
    before = layout.build(base_state(x, y, yaw), [goal_x, goal_y])
    after = layout.build(base_state(*moved_robot, yaw + turn), moved_goal)
    compared = 5 if before[2] > 1e-6 else 3  # the bearing is undefined at the goal itself
    np.testing.assert_allclose(after[:compared], before[:compared], atol=1e-7)


def test_goal_at_the_robot_counts_as_straight_ahead() -> None:
    layout = ObservationLayout(GOAL_FEATURES)
    np.testing.assert_array_equal(layout.build(base_state(1.0, 2.0, 0.5), [1.0, 2.0, 0.3]),
                                  [0.0, 0.0, 0.0, 1.0, 0.0])


def test_joint_error_follows_the_goal_joint_order() -> None:
    layout = ObservationLayout(['goal.joint_error.elbow', 'goal.joint_error.shoulder'],
                               goal_joints=['shoulder', 'elbow'])
    state = {'joint.position.shoulder': 0.5, 'joint.position.elbow': -1.0}
    np.testing.assert_allclose(layout.build(state, [1.5, 0.0]), [1.0, 1.0])
    assert layout.goal_dim == 2
    assert layout.required_state_keys == ('joint.position.elbow', 'joint.position.shoulder')


def test_raw_goal_slots_set_the_goal_dim() -> None:
    layout = ObservationLayout(['goal.2', 'goal.0'])
    np.testing.assert_array_equal(layout.build({}, [4.0, 5.0, 6.0]), [6.0, 4.0])
    assert layout.goal_dim == 3
    assert layout.required_state_keys == ()


def test_required_state_keys_are_listed_once_in_first_use_order() -> None:
    layout = ObservationLayout(['base.v', 'goal.distance', 'base.yaw_cos', 'goal.dx_body'])
    assert layout.required_state_keys == ('base.v', 'base.x', 'base.y', 'base.yaw')
    assert layout.goal_dim == 2


def test_a_missing_state_key_is_named_with_the_fields_needing_it() -> None:
    layout = ObservationLayout(['base.v', 'goal.dx_body', 'goal.distance'])
    state = base_state(0.0, 0.0, 0.0)
    del state['base.yaw']
    with pytest.raises(ObservationError,
                       match=r'lacks key .base\.yaw.*goal\.dx_body.*goal\.distance'):
        layout.build(state, [1.0, 1.0])


def test_a_short_goal_is_refused() -> None:
    layout = ObservationLayout(['goal.dx_body'])
    with pytest.raises(ObservationError, match=r'goal: .* read 2 goal entries'):
        layout.build(base_state(0.0, 0.0, 0.0), [1.0])


@pytest.mark.parametrize('fields, goal_joints, message', [
    (['base.v', 'base.z'], (), r"fields\[1\]: unknown observation feature 'base\.z'"),
    (['array.01'], (), r"fields\[0\]: unknown observation feature 'array\.01'"),
    (['joint.position.'], (), r'fields\[0\]: unknown'),
    (['goal.joint_error.wrist'], ('elbow',), r"fields\[0\]: .*joint 'wrist'.*goal_joints"),
    (['goal.dx_body', 'goal.joint_error.elbow'], ('elbow',), 'use one kind'),
    ([], (), 'at least one feature'),
    (['base.v'], ('elbow', 'elbow'), 'goal_joints: joint names repeat'),
])
def test_bad_layouts_are_refused_naming_the_field(fields: list[str], goal_joints: tuple[str, ...],
                                                  message: str) -> None:
    with pytest.raises(ObservationError, match=message):
        ObservationLayout(fields, goal_joints)


def test_describe_names_the_source_of_each_slot() -> None:
    layout = ObservationLayout(['base.yaw_sin', 'goal.distance', 'goal.1'])
    assert layout.describe() == [(0, 'base.yaw_sin', 'base.yaw'),
                                 (1, 'goal.distance', 'base.x, base.y, base.yaw, goal[:2]'),
                                 (2, 'goal.1', 'goal[:2]')]
