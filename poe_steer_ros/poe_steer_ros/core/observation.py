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
Observation layouts: turn a robot state and a goal into the raw vector a frozen actor reads.

An actor manifest lists its observation as ordered, named features (``observation.fields``).
A feature is one of:

* a raw state key (see ``core.interfaces``): ``base.x``, ``base.y``, ``base.yaw``, ``base.v``,
  ``base.w``, ``joint.position.<name>``, ``joint.velocity.<name>``, ``array.<i>``, and
  ``scan.<i>``, the nearest range in scan sector ``i`` over the range cap (``core.scan``; a
  layout with scan fields lists every sector ``scan.0 .. scan.<bins - 1>``);
* a derived base feature: ``base.yaw_cos``, ``base.yaw_sin``;
* a goal-relative base feature, for a goal ``[x, y(, yaw)]`` in the odom frame (m, rad):
  ``goal.dx_body``, ``goal.dy_body`` (goal vector in the robot's body frame, m),
  ``goal.distance`` (m), ``goal.bearing_cos``, ``goal.bearing_sin`` (direction of the goal in
  the body frame; a goal at the robot's position counts as straight ahead);
* a joint goal feature ``goal.joint_error.<name>``: goal position minus current position, where
  the goal vector holds one position per joint in the order of ``observation.goal_joints``;
* a raw goal slot ``goal.<i>``.

A goal is either a base pose or a vector of joint positions, so base-goal and joint-goal
features never mix in one layout. Normalisation is not applied here: the layout yields raw
values and the actor runtime normalises them as its manifest says.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Callable, Sequence

import numpy as np
from poe_steer_ros.core.interfaces import (
    BASE_KEYS, BASE_X, BASE_Y, BASE_YAW, joint_position_key, RobotState)
from poe_steer_ros.core.scan import scan_key, SCAN_PREFIX


class ObservationError(ValueError):
    """A layout that cannot be built, or a state/goal that cannot fill it."""


@dataclasses.dataclass(frozen=True)
class _GoalFrame:
    """Goal vector expressed in the robot's body frame, computed once per build."""

    dx_body: float
    dy_body: float
    distance: float

    @classmethod
    def compute(cls, state: RobotState, goal: np.ndarray) -> _GoalFrame:
        """Rotate the odom-frame goal offset by ``-yaw`` into the body frame."""
        dx = float(goal[0]) - state[BASE_X]
        dy = float(goal[1]) - state[BASE_Y]
        yaw = state[BASE_YAW]
        cos_yaw, sin_yaw = math.cos(yaw), math.sin(yaw)
        dx_body = cos_yaw * dx + sin_yaw * dy
        dy_body = -sin_yaw * dx + cos_yaw * dy
        return cls(dx_body, dy_body, math.hypot(dx_body, dy_body))

    @property
    def bearing_cos(self) -> float:
        return self.dx_body / self.distance if self.distance > 0.0 else 1.0

    @property
    def bearing_sin(self) -> float:
        return self.dy_body / self.distance if self.distance > 0.0 else 0.0


Getter = Callable[[RobotState, np.ndarray, _GoalFrame | None], float]


@dataclasses.dataclass(frozen=True)
class Feature:
    """One parsed observation field: how to read it and what it needs."""

    name: str
    getter: Getter
    state_keys: tuple[str, ...]
    goal_dim: int
    uses_base_goal: bool = False
    uses_joint_goal: bool = False


_BASE_GOAL_FEATURES: dict[str, Callable[[_GoalFrame], float]] = {
    'goal.dx_body': lambda frame: frame.dx_body,
    'goal.dy_body': lambda frame: frame.dy_body,
    'goal.distance': lambda frame: frame.distance,
    'goal.bearing_cos': lambda frame: frame.bearing_cos,
    'goal.bearing_sin': lambda frame: frame.bearing_sin,
}
_JOINT_KEY = re.compile(r'joint\.(position|velocity)\.(.+)')
_INDEXED = re.compile(r'(array|goal|scan)\.(0|[1-9][0-9]*)')
_JOINT_ERROR = 'goal.joint_error.'


def _read_state(key: str) -> Getter:
    return lambda state, goal, frame: state[key]


def parse_field(name: str, goal_joints: Sequence[str] = ()) -> Feature:
    """
    Parse one observation field name.

    :param name: the field, e.g. ``base.v`` or ``goal.joint_error.elbow``.
    :param goal_joints: joint order of the goal vector (for ``goal.joint_error.<name>``).
    :returns: the feature with its getter, required state keys and goal length.
    :raises ObservationError: if the name is not a supported feature.
    """
    indexed = _INDEXED.fullmatch(name)
    is_state_slot = indexed is not None and indexed.group(1) in ('array', 'scan')
    if name in BASE_KEYS or _JOINT_KEY.fullmatch(name) or is_state_slot:
        return Feature(name, _read_state(name), (name,), 0)
    if indexed:
        slot = int(indexed.group(2))
        return Feature(name, lambda state, goal, frame: float(goal[slot]), (), slot + 1)
    if name == 'base.yaw_cos':
        return Feature(name, lambda state, goal, frame: math.cos(state[BASE_YAW]), (BASE_YAW,), 0)
    if name == 'base.yaw_sin':
        return Feature(name, lambda state, goal, frame: math.sin(state[BASE_YAW]), (BASE_YAW,), 0)
    if name in _BASE_GOAL_FEATURES:
        of_frame = _BASE_GOAL_FEATURES[name]
        return Feature(
            name, lambda state, goal, frame: of_frame(frame),  # type: ignore[arg-type]
            (BASE_X, BASE_Y, BASE_YAW), 2, uses_base_goal=True)
    if name.startswith(_JOINT_ERROR) and len(name) > len(_JOINT_ERROR):
        joint = name[len(_JOINT_ERROR):]
        if joint not in goal_joints:
            raise ObservationError(
                f'{name!r} needs joint {joint!r} in observation.goal_joints '
                f'(the joint order of the goal vector), which lists {list(goal_joints)}')
        slot = list(goal_joints).index(joint)
        key = joint_position_key(joint)
        return Feature(
            name, lambda state, goal, frame: float(goal[slot]) - state[key], (key,),
            len(goal_joints), uses_joint_goal=True)
    raise ObservationError(
        f'unknown observation feature {name!r}; supported: raw state keys (base.x, base.y, '
        'base.yaw, base.v, base.w, joint.position.<name>, joint.velocity.<name>, array.<i>, '
        'scan.<i>), '
        'base.yaw_cos, base.yaw_sin, ' + ', '.join(_BASE_GOAL_FEATURES)
        + ', goal.joint_error.<name>, goal.<i>')


class ObservationLayout:
    """
    Ordered named features that build an actor's raw observation vector.

    :ivar fields: the feature names, in vector order.
    :ivar goal_joints: joint order of a joint-position goal vector (empty otherwise).
    :ivar size: length of the observation vector.
    :ivar goal_dim: number of goal entries the layout reads (0 if it reads none).
    :ivar required_state_keys: the state keys a ROS adapter must provide, in first-use order.
    :ivar scan_bins: number of ``scan.<i>`` sectors the layout reads (0 if none).
    """

    def __init__(self, fields: Sequence[str], goal_joints: Sequence[str] = ()) -> None:
        """
        Parse and check the features.

        :raises ObservationError: naming ``fields[i]`` for an unknown feature, or when base-goal
            and joint-goal features are mixed.
        """
        if not fields:
            raise ObservationError('fields: an observation needs at least one feature')
        if len(set(goal_joints)) != len(goal_joints):
            raise ObservationError(f'goal_joints: joint names repeat in {list(goal_joints)}')
        features = []
        for index, name in enumerate(fields):
            try:
                features.append(parse_field(name, goal_joints))
            except ObservationError as err:
                raise ObservationError(f'fields[{index}]: {err}') from None
        if any(f.uses_base_goal for f in features) and any(f.uses_joint_goal for f in features):
            raise ObservationError(
                'fields: base-goal features (goal.dx_body, ...) and goal.joint_error.* read the '
                'same goal vector as a pose and as joint positions; use one kind')
        scan_fields = {name for name in fields if name.startswith(SCAN_PREFIX)}
        expected_scan = {scan_key(index) for index in range(len(scan_fields))}
        if scan_fields != expected_scan:
            raise ObservationError(
                f'fields: scan sectors must be scan.0 .. scan.{len(scan_fields) - 1}, each once; '
                f'got {sorted(scan_fields)}')
        self.scan_bins = len(scan_fields)
        self.fields = tuple(fields)
        self.goal_joints = tuple(goal_joints)
        self.size = len(features)
        self.goal_dim = max([len(self.goal_joints)] + [f.goal_dim for f in features])
        self.required_state_keys = tuple(dict.fromkeys(k for f in features for k in f.state_keys))
        self._features = tuple(features)
        self._getters = tuple(f.getter for f in features)
        self._uses_base_goal = any(f.uses_base_goal for f in features)

    def build(self, state: RobotState, goal: np.ndarray | Sequence[float] = ()) -> np.ndarray:
        """
        Build the raw (un-normalised) observation vector.

        :param state: the robot state (canonical keys, SI units).
        :param goal: the goal vector: ``[x, y(, yaw)]`` in the odom frame for base-goal
            features, joint positions in ``goal_joints`` order for joint-goal features. Entries
            past ``goal_dim`` are ignored.
        :returns: float64 array of shape ``(size,)``.
        :raises ObservationError: if the goal is too short or the state lacks a required key.
        """
        goal_vector = np.asarray(goal, dtype=np.float64)
        if goal_vector.ndim != 1 or goal_vector.shape[0] < self.goal_dim:
            raise ObservationError(
                f'goal: the observation fields read {self.goal_dim} goal entries, got an '
                f'array of shape {goal_vector.shape}')
        try:
            frame = _GoalFrame.compute(state, goal_vector) if self._uses_base_goal else None
            return np.array(
                [get(state, goal_vector, frame) for get in self._getters], dtype=np.float64)
        except KeyError as err:
            raise ObservationError(self._missing_key_message(state, err.args[0])) from None

    def _missing_key_message(self, state: RobotState, key: object) -> str:
        needing = [f.name for f in self._features if key in f.state_keys]
        missing = [k for k in self.required_state_keys if k not in state]
        return (f'robot state lacks key {key!r}, needed by observation field(s) {needing}; '
                f'missing in total: {missing}')

    def describe(self) -> list[tuple[int, str, str]]:
        """Return ``(index, field, source)`` rows: what fills each slot of the vector."""
        rows = []
        for index, feature in enumerate(self._features):
            sources = list(feature.state_keys)
            if feature.goal_dim:
                sources.append(f'goal[:{feature.goal_dim}]')
            rows.append((index, feature.name, ', '.join(sources)))
        return rows
