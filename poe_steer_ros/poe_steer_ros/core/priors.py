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
Goal priors: goal-conditioned Gaussians over the action, behind one interface.

A prior is called with the robot state, the goal and the actor's raw observation and returns
a ``DiagGaussian`` in COMMAND space (pose and joint attractors: physical units) or PRE_SQUASH
space (a learned prior trained on the actor's outputs; configurable). The Steerer clips a
command-space mean to the envelope and maps it to pre-squash space before composing.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import pathlib
from typing import Any, Protocol, runtime_checkable, Sequence

import numpy as np
from poe_steer_ros.core.gaussian import DiagGaussian
from poe_steer_ros.core.interfaces import (BASE_X, BASE_Y, BASE_YAW, joint_position_key,
                                           RobotState, Space)
import transforms3d  # type: ignore[import-untyped]


PRIOR_STD_MIN = 1e-6
"""
The floor of every prior std. Parameters and external priors with a smaller std (in their own
units) are refused, and every prior's std is raised to it in pre-squash space before composing.
A std near 0 claims certainty no goal heuristic or message sender has; with ``limits.alpha_max``
below 1 the envelope bounds the prior's effective weight whatever its std.
"""


@runtime_checkable
class GoalPrior(Protocol):
    """What the Steerer needs from a goal prior."""

    @property
    def space(self) -> Space:
        """Return the space of the returned Gaussian (COMMAND, ACTION or PRE_SQUASH)."""
        ...

    def __call__(self, state: RobotState, goal: np.ndarray, obs: np.ndarray) -> DiagGaussian:
        """Return the prior's Gaussian over the action for this state and goal."""
        ...


class PriorType(str, enum.Enum):
    """Which goal prior the Steerer builds from a ``PriorConfig``."""

    POSE = 'pose'
    JOINT = 'joint'
    LEARNED = 'learned'
    EXTERNAL = 'external'
    PATH = 'path'


@dataclasses.dataclass(frozen=True)
class PriorConfig:
    """Runtime settings of the goal prior; field names are the ``prior.*`` parameter names."""

    type: PriorType = PriorType.POSE  # noqa: A003 (the parameter is named prior.type)
    """
    Pose (planar base), joint (joint velocities), learned (model given at startup), external (a
    Gaussian handed in with ``Steerer.set_external_prior``) or path (follows a planner's path
    handed in with ``Steerer.set_path``; the pose prior stands in while there is none).
    """
    k_linear: float = 0.5
    """Pose prior, desired forward speed per metre to the goal (1/s)."""
    k_angular: float = 1.5
    """Pose prior, desired turn rate per radian of heading error (1/s)."""
    std_linear: float = 0.05
    """Pose prior, forward-speed std at the goal (m/s)."""
    std_linear_per_m: float = 0.1
    """Pose prior, growth of that std per metre to the goal (1/s)."""
    std_angular: float = 2.0
    """
    Pose prior, turn-rate std at zero heading error (rad/s). Wide: the straight line knows no
    obstacles, so a confident actor keeps the turn near them (goal-grid benchmark,
    docs/reach.md: 0.1 here lost every training-region goal the actor reaches alone).
    """
    std_angular_per_rad: float = 1.0
    """Pose prior, growth of that std per radian of heading error (1/s)."""
    goal_radius_m: float = 0.3
    """
    Pose prior, distance over which steering blends from facing the goal point to matching the goal
    yaw.
    """
    k_joint: float = 1.0
    """Joint prior, desired joint velocity per unit of position error (1/s)."""
    std_joint: float = 0.05
    """Joint prior, joint-velocity std at the goal (rad/s or m/s)."""
    std_joint_per_rad: float = 0.2
    """Joint prior, growth of that std per unit of position error (1/s)."""
    joint_names: tuple[str, ...] = ()
    """Joint prior, the commanded joints in command order."""
    path_lookahead_m: float = 0.5
    """Path prior, how far along the path ahead of the robot's closest point it aims (m)."""
    path_speed_m_s: float = 0.6
    """Path prior, forward speed along the path, slowed near its end by ``k_linear`` (m/s)."""
    path_std_linear: float = 0.03
    """Path prior, forward-speed std where the path is constrained, on it, fresh (m/s)."""
    path_std_angular: float = 0.1
    """Path prior, turn-rate std where the path is constrained, on it, fresh (rad/s)."""
    path_open_std_factor: float = 2.0
    """Path prior, std multiplier where the path runs straight (unconstrained), >= 1."""
    path_bend_window_m: float = 1.0
    """Path prior, arc length around the closest point whose bending marks a constraint (m)."""
    path_std_per_m_cross_track: float = 2.0
    """Path prior, relative std growth per metre of cross-track error (1/m)."""
    path_std_per_s_age: float = 0.2
    """Path prior, relative std growth per second of path age (1/s)."""
    path_timeout_s: float = 5.0
    """Path prior, a path older than this is dropped and the pose prior stands in (s)."""

    def __post_init__(self) -> None:
        """Coerce the type and names and check every number; raise ValueError naming it."""
        object.__setattr__(self, 'type', _enum_field('prior.type', PriorType, self.type))
        object.__setattr__(self, 'joint_names', tuple(self.joint_names))
        for name in ('k_linear', 'k_angular', 'std_linear_per_m', 'std_angular_per_rad',
                     'k_joint', 'std_joint_per_rad', 'path_std_per_m_cross_track',
                     'path_std_per_s_age'):
            _number_field(f'prior.{name}', self, name, low=0.0)
        for name in ('std_linear', 'std_angular', 'std_joint', 'path_std_linear',
                     'path_std_angular'):
            _number_field(f'prior.{name}', self, name, low=PRIOR_STD_MIN)
        for name in ('goal_radius_m', 'path_lookahead_m', 'path_speed_m_s', 'path_bend_window_m',
                     'path_timeout_s'):
            _number_field(f'prior.{name}', self, name, low=0.0, strict=True)
        _number_field('prior.path_open_std_factor', self, 'path_open_std_factor', low=1.0)
        names = self.joint_names
        if not all(isinstance(name, str) and name for name in names):
            raise ValueError(f'prior.joint_names must be non-empty strings, got {names!r}')
        if len(set(names)) != len(names):
            raise ValueError(f'prior.joint_names must be unique, got {names!r}')


def goal_problem(goal: Sequence[float], goal_dim: int, prior: PriorConfig) -> str:
    """
    Say why ``goal`` cannot steer an actor observing ``goal_dim`` goal values ('' if it can).

    An empty goal is always valid: it means "no goal", and the safe command is sent.
    """
    if not len(goal):
        return ''
    if not all(math.isfinite(value) for value in goal):
        return f'goal must be finite, got {list(goal)}'
    if len(goal) < goal_dim:
        return f'goal has {len(goal)} values, the actor observes {goal_dim}'
    if prior.type is PriorType.POSE and len(goal) not in (2, 3):
        return f'goal for prior.type pose is [x, y] or [x, y, yaw], got {len(goal)} values'
    joints = prior.joint_names
    if prior.type is PriorType.JOINT and len(goal) != len(joints):
        return (f'goal for prior.type joint has one position per prior.joint_names '
                f'({len(joints)}), got {len(goal)} values')
    return ''


def _enum_field(name: str, kind: type[enum.Enum], value: Any) -> Any:
    """Return ``kind(value)``; raise ValueError naming the field and the allowed values."""
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f'{name} must be one of {[item.value for item in kind]}, '
                         f'got {value!r}') from None


def _number_field(name: str, owner: object, attribute: str, low: float,
                  high: float = math.inf, strict: bool = False) -> None:
    """Coerce ``owner.attribute`` to float and check ``low <(=) value <= high`` and finiteness."""
    value = getattr(owner, attribute)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'{name} must be a number, got {value!r}')
    value = float(value)
    too_low = value <= low if strict else value < low
    if math.isnan(value) or math.isinf(value) or too_low or value > high:
        relation = '>' if strict else '>='
        limit = '' if high == math.inf else f' and <= {high}'
        raise ValueError(f'{name} must be finite, {relation} {low}{limit}; got {value}')
    object.__setattr__(owner, attribute, value)


def _read(state: RobotState, key: str, who: str) -> float:
    """Return ``state[key]``; raise KeyError saying which prior needs the missing key."""
    try:
        return float(state[key])
    except KeyError:
        raise KeyError(f'the {who} needs state key {key!r}, which the state lacks') from None


def _goal_values(goal: np.ndarray, sizes: Sequence[int], who: str) -> list[float]:
    """Return ``goal`` as finite floats, one of ``sizes`` many; raise ValueError if not."""
    values = np.asarray(goal, dtype=np.float64).reshape(-1).tolist()
    if len(values) not in sizes or not all(map(math.isfinite, values)):
        raise ValueError(f'goal for the {who} must be {" or ".join(map(str, sizes))} finite '
                         f'numbers, got {goal!r}')
    return values


class PoseAttractorPrior:
    """
    Planar mobile-base attractor: goal (x, y[, yaw]) in the odom frame -> desired (v, w).

    The goal point is expressed in the body frame (a planar rotation by the yaw) and the goal
    yaw relative to the heading (the relative rotation, through transforms3d). With distance
    ``rho`` and bearing ``b`` of the goal point in the body frame:
    ``v = k_linear rho cos(b)`` (forward when the goal is ahead, backward when behind, 0 when
    abeam) and ``w = k_angular e`` with heading error ``e = (1 - n) b + n e_yaw``, where
    ``n = exp(-(rho / goal_radius_m)**2)`` hands the heading over from the goal point to the goal
    yaw near the goal (``e_yaw = 0`` without a goal yaw, so the bearing fades out there).
    At the goal pose the mean is exactly zero. The std grows with distance (linear) and with
    the heading error (angular). Command order: [linear x (m/s), angular z (rad/s)].
    Far away the mean exceeds the command bounds; the Steerer clips it there and, for
    tanh-Gaussian actors, the delta method inflates its pre-squash std (``ATANH_CLIP_EPS``),
    so together with the growing std a far goal steers gently and a near one firmly.
    """

    space = Space.COMMAND
    action_dim = 2

    def __init__(self, config: PriorConfig) -> None:
        """Take gains and stds from ``config`` (a validated PriorConfig)."""
        self._config = config

    def __call__(self, state: RobotState, goal: np.ndarray, obs: np.ndarray) -> DiagGaussian:
        """
        Return the desired (v, w) Gaussian in command space.

        :raises KeyError: if the state lacks base.x, base.y or base.yaw.
        :raises ValueError: if the goal is not 2 or 3 finite numbers.
        """
        config = self._config
        who = 'pose prior'
        target = _goal_values(goal, (2, 3), who)
        yaw = _read(state, BASE_YAW, who)
        # The goal offset in the body frame: the planar rotation by -yaw, in floats (per tick).
        cos_yaw, sin_yaw = math.cos(yaw), math.sin(yaw)
        offset_x = target[0] - _read(state, BASE_X, who)
        offset_y = target[1] - _read(state, BASE_Y, who)
        ahead = cos_yaw * offset_x + sin_yaw * offset_y
        left = cos_yaw * offset_y - sin_yaw * offset_x
        distance = math.hypot(ahead, left)
        bearing = math.atan2(left, ahead)
        yaw_error = 0.0
        if len(target) == 3:
            error = (transforms3d.euler.euler2mat(0.0, 0.0, yaw).T
                     @ transforms3d.euler.euler2mat(0.0, 0.0, target[2]))
            yaw_error = math.atan2(error[1, 0], error[0, 0])
        # exp(-x**2) is 0 to double precision once x > 27; the cap keeps x**2 from overflowing
        # for far (but finite) goals.
        near = math.exp(-min(distance / config.goal_radius_m, 30.0) ** 2)
        heading_error = (1.0 - near) * bearing + near * yaw_error
        mean = np.array([config.k_linear * distance * math.cos(bearing),
                         config.k_angular * heading_error])
        std = np.array([config.std_linear + config.std_linear_per_m * distance,
                        config.std_angular + config.std_angular_per_rad * abs(heading_error)])
        return DiagGaussian(mean, std, Space.COMMAND)


@dataclasses.dataclass(frozen=True)
class PlannedPath:
    """A planner's path in the state frame and when it was received (``Steerer.step`` clock)."""

    points: np.ndarray
    """``(n, 2)`` waypoints ``[x, y]`` (m) from near the robot to the goal, n >= 1."""
    received_s: float

    def __post_init__(self) -> None:
        """Coerce the points to a finite ``(n, 2)`` float array; raise ValueError if not."""
        points = np.array(self.points, dtype=np.float64)
        if points.ndim != 2 or points.shape[0] < 1 or points.shape[1] != 2 \
                or not np.isfinite(points).all():
            raise ValueError(f'a path needs (n >= 1, 2) finite waypoints, got shape '
                             f'{points.shape}')
        if math.isnan(self.received_s):
            raise ValueError('received_s must be a time in seconds, got NaN')
        points.setflags(write=False)
        object.__setattr__(self, 'points', points)


@dataclasses.dataclass(frozen=True)
class _PathPoint:
    """Where the robot stands relative to a path: closest arc length and cross-track error."""

    arc_m: float
    cross_track_m: float


def _cumulative_length(points: np.ndarray) -> np.ndarray:
    """Return the arc length (m) at each waypoint."""
    return np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))))


def _closest(points: np.ndarray, arc: np.ndarray, x: float, y: float) -> _PathPoint:
    """Project ``(x, y)`` on the polyline: arc length of the closest point and its distance."""
    if len(points) == 1:
        return _PathPoint(0.0, math.hypot(x - points[0, 0], y - points[0, 1]))
    start, delta = points[:-1], np.diff(points, axis=0)
    lengths2 = np.maximum((delta ** 2).sum(axis=1), 1e-18)
    along = np.clip(((np.array([x, y]) - start) * delta).sum(axis=1) / lengths2, 0.0, 1.0)
    foot = start + along[:, None] * delta
    distance = np.hypot(foot[:, 0] - x, foot[:, 1] - y)
    index = int(np.argmin(distance))
    return _PathPoint(float(arc[index] + along[index] * math.sqrt(lengths2[index])),
                      float(distance[index]))


def _point_at(points: np.ndarray, arc: np.ndarray, arc_m: float) -> np.ndarray:
    """Return the point at arc length ``arc_m`` (clamped to the path's ends)."""
    return np.array([np.interp(arc_m, arc, points[:, 0]), np.interp(arc_m, arc, points[:, 1])])


def _bending_rad(points: np.ndarray, arc: np.ndarray, centre_m: float, half_m: float) -> float:
    """
    Return the path's net turn (rad) across ``centre_m +- half_m``: chord against chord.

    Chords, not segment headings: a grid planner's staircase of 45-degree steps along a straight
    line does not count as bending.
    """
    before, at, after = (_point_at(points, arc, arc_m)
                         for arc_m in (centre_m - half_m, centre_m, centre_m + half_m))
    incoming, outgoing = at - before, after - at
    if min(np.hypot(*incoming), np.hypot(*outgoing)) < 1e-9:
        return 0.0
    cross = incoming[0] * outgoing[1] - incoming[1] * outgoing[0]
    return abs(math.atan2(cross, float(incoming @ outgoing)))


class PathPrior:
    """
    Planner-path follower: pure pursuit along a ``PlannedPath`` -> desired (v, w).

    The mean aims at the point ``path_lookahead_m`` down the path from the robot's closest
    point on it (or the path's end): ``w = k_angular e`` for the bearing ``e`` of that point,
    ``v = min(path_speed_m_s, k_linear * remaining arc) * max(cos e, 0)**2``, so the robot turns
    in place toward a point behind it instead of swerving. The std is smallest where the path
    is constrained and grows where it is not trustworthy::

        std = (path_std_linear, path_std_angular)
              * (1 + (path_open_std_factor - 1) * (1 - bend))     # straight path: open space
              * (1 + path_std_per_m_cross_track * cross_track_m)  # off the path
              * (1 + path_std_per_s_age * age_s)                  # old path

    where ``bend`` in [0, 1] is the path's net turn across ``path_bend_window_m`` centred on the
    closest point, over pi/2: a planner bends its path where it routes around
    obstacles, so bending is what the path's own geometry says about clearance. Without a
    path, with one older than ``path_timeout_s`` or one that ends more than
    ``goal_radius_m`` from the goal (the goal changed, the planner has not answered yet), the
    pose prior stands in.
    """

    space = Space.COMMAND
    action_dim = 2

    def __init__(self, config: PriorConfig) -> None:
        """Take the path settings from ``config``; the pose prior is the stand-in."""
        self._config = config
        self._pose = PoseAttractorPrior(config)

    def uses(self, path: PlannedPath | None, goal: np.ndarray, now_s: float) -> bool:
        """Return whether ``path`` applies at ``now_s`` to ``goal`` (else the pose prior does)."""
        if path is None or not path.received_s <= now_s < path.received_s + \
                self._config.path_timeout_s:
            return False
        target = np.asarray(goal, dtype=np.float64).reshape(-1)[:2]
        return bool(np.hypot(*(path.points[-1] - target)) <= self._config.goal_radius_m)

    def gaussian(self, state: RobotState, goal: np.ndarray, path: PlannedPath | None,
                 now_s: float) -> DiagGaussian:
        """
        Return the desired (v, w) Gaussian in command space.

        :raises KeyError: if the state lacks base.x, base.y or base.yaw.
        :raises ValueError: if the goal is not 2 or 3 finite numbers.
        """
        if path is None or not self.uses(path, goal, now_s):
            return self._pose(state, goal, np.empty(0))
        config = self._config
        who = 'path prior'
        x, y = _read(state, BASE_X, who), _read(state, BASE_Y, who)
        yaw = _read(state, BASE_YAW, who)
        points = path.points
        arc = _cumulative_length(points)
        here = _closest(points, arc, x, y)
        target = _point_at(points, arc, here.arc_m + config.path_lookahead_m)
        bearing = math.remainder(math.atan2(target[1] - y, target[0] - x) - yaw, math.tau)
        ahead_m = min(here.arc_m + config.path_lookahead_m, arc[-1])
        remaining_m = math.hypot(target[0] - x, target[1] - y) + arc[-1] - ahead_m
        speed = min(config.path_speed_m_s, config.k_linear * remaining_m)
        mean = np.array([speed * max(math.cos(bearing), 0.0) ** 2, config.k_angular * bearing])
        half = config.path_bend_window_m / 2
        bend = min(_bending_rad(points, arc, here.arc_m, half) / (math.pi / 2), 1.0)
        scale = ((1.0 + (config.path_open_std_factor - 1.0) * (1.0 - bend))
                 * (1.0 + config.path_std_per_m_cross_track * here.cross_track_m)
                 * (1.0 + config.path_std_per_s_age * (now_s - path.received_s)))
        std = scale * np.array([config.path_std_linear, config.path_std_angular])
        return DiagGaussian(mean, std, Space.COMMAND)


class JointAttractorPrior:
    """
    Joint-space attractor: goal joint positions -> desired joint velocities.

    ``mean = k_joint (q_goal - q)`` and ``std = std_joint + std_joint_per_rad |q_goal - q|`` per
    joint, in the order of ``prior.joint_names``; zero mean at the goal.
    """

    space = Space.COMMAND

    def __init__(self, config: PriorConfig) -> None:
        """
        Take joint names, gain and stds from ``config``.

        :raises ValueError: if ``config.joint_names`` is empty.
        """
        if not config.joint_names:
            raise ValueError('prior.joint_names must name the commanded joints for prior.type '
                             'joint')
        self._config = config
        self._keys = tuple(joint_position_key(name) for name in config.joint_names)
        self.action_dim = len(self._keys)

    def __call__(self, state: RobotState, goal: np.ndarray, obs: np.ndarray) -> DiagGaussian:
        """
        Return the desired joint-velocity Gaussian in command space.

        :raises KeyError: if the state lacks a joint position.
        :raises ValueError: if the goal does not have one finite entry per joint.
        """
        config = self._config
        target = np.array(_goal_values(goal, (self.action_dim,), 'joint prior'))
        position = np.array([_read(state, key, 'joint prior') for key in self._keys])
        error = target - position
        return DiagGaussian(config.k_joint * error,
                            config.std_joint + config.std_joint_per_rad * np.abs(error),
                            Space.COMMAND)


class LearnedPrior:
    """
    A goal-conditioned TorchScript model ``f(obs, goal) -> (mean, log_std)``.

    The model takes float batches ``(1, obs_dim)`` and ``(1, goal_dim)`` (raw observation as
    the actor gets it, and the goal) and returns two ``(1, d)`` tensors. Its space defaults to
    PRE_SQUASH: a prior trained on the actor's data speaks the actor's language. Load it at
    startup, never in a callback. (torch 2.13 marks TorchScript deprecated; any ``nn.Module``
    with that forward signature can be passed instead of a path.)
    """

    def __init__(self, model: Any, space: Space = Space.PRE_SQUASH) -> None:
        """
        Wrap a module, or load a TorchScript file with ``torch.jit.load``.

        :raises FileNotFoundError: if ``model`` is a path that does not exist.
        """
        import torch
        if isinstance(model, (str, pathlib.Path)):
            path = pathlib.Path(model)
            if not path.is_file():
                raise FileNotFoundError(f'learned prior model {path} does not exist')
            model = torch.jit.load(str(path), map_location='cpu')  # type: ignore[no-untyped-call]
        self._torch = torch
        self._module = model.eval()
        parameter = next(iter(model.parameters()), None)
        self._dtype = torch.float32 if parameter is None else parameter.dtype
        self.space = Space(space)

    def __call__(self, state: RobotState, goal: np.ndarray, obs: np.ndarray) -> DiagGaussian:
        """
        Run the model on one observation and goal.

        :raises ValueError: if mean and log_std differ in size.
        """
        torch = self._torch
        with torch.inference_mode():
            mean, log_std = self._module(
                torch.as_tensor(np.asarray(obs), dtype=self._dtype).reshape(1, -1),
                torch.as_tensor(np.asarray(goal), dtype=self._dtype).reshape(1, -1))
        mean = mean.detach().double().numpy().reshape(-1)
        log_std = log_std.detach().double().numpy().reshape(-1)
        if log_std.shape != mean.shape:
            raise ValueError(f'learned prior returned mean of {mean.size} and log_std of '
                             f'{log_std.size} entries')
        return DiagGaussian(mean, np.exp(log_std), self.space)


@dataclasses.dataclass(frozen=True)
class ExternalPrior:
    """A Gaussian handed in from outside (e.g. a GoalPrior message), valid until ``expiry_s``."""

    gaussian: DiagGaussian
    """The prior, in COMMAND, ACTION or PRE_SQUASH space."""
    expiry_s: float
    """Time (same clock as ``Steerer.step``'s ``now_s``) from which it is ignored."""
    weight: float | None = None
    """
    The prior weight (alpha in [0, 1]) to use while it is valid, or None for the configured one;
    capped by the envelope like any weight.
    """
    received_s: float = -math.inf
    """
    When it was handed in (same clock). A clock that reads earlier has jumped back (a simulator
    restarted): the prior belongs to the old timeline and no longer applies.
    """

    def __post_init__(self) -> None:
        """Check finiteness, the std floor and the weight range."""
        if not (np.isfinite(self.gaussian.mean).all() and np.isfinite(self.gaussian.std).all()
                and (self.gaussian.std >= PRIOR_STD_MIN).all()):
            raise ValueError(f'external prior mean and std must be finite with std >= '
                             f'{PRIOR_STD_MIN:g}, got mean={self.gaussian.mean}, '
                             f'std={self.gaussian.std}')
        if math.isnan(self.expiry_s) or math.isnan(self.received_s):
            raise ValueError('expiry_s and received_s must be times in seconds, got NaN')
        if self.weight is not None and not 0.0 <= self.weight <= 1.0:  # NaN too
            raise ValueError(f'weight must lie in [0, 1] or be None, got {self.weight}')

    @property
    def space(self) -> Space:
        """Return the space of the Gaussian."""
        return self.gaussian.space

    def is_valid(self, now_s: float) -> bool:
        """Return whether the prior applies at ``now_s``: from its receipt until its expiry."""
        return self.received_s <= now_s < self.expiry_s

    def __call__(self, state: RobotState, goal: np.ndarray, obs: np.ndarray) -> DiagGaussian:
        """Return the stored Gaussian (state, goal and observation do not matter)."""
        return self.gaussian
