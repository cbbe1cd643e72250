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


@dataclasses.dataclass(frozen=True)
class PriorConfig:
    """Runtime settings of the goal prior; field names are the ``prior.*`` parameter names."""

    type: PriorType = PriorType.POSE  # noqa: A003 (the parameter is named prior.type)
    """
    Pose (planar base), joint (joint velocities), learned (model given at startup) or external (a
    Gaussian handed in with ``Steerer.set_external_prior``).
    """
    k_linear: float = 0.5
    """Pose prior, desired forward speed per metre to the goal (1/s)."""
    k_angular: float = 1.5
    """Pose prior, desired turn rate per radian of heading error (1/s)."""
    std_linear: float = 0.05
    """Pose prior, forward-speed std at the goal (m/s)."""
    std_linear_per_m: float = 0.1
    """Pose prior, growth of that std per metre to the goal (1/s)."""
    std_angular: float = 0.1
    """Pose prior, turn-rate std at zero heading error (rad/s)."""
    std_angular_per_rad: float = 0.3
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

    def __post_init__(self) -> None:
        """Coerce the type and names and check every number; raise ValueError naming it."""
        object.__setattr__(self, 'type', _enum_field('prior.type', PriorType, self.type))
        object.__setattr__(self, 'joint_names', tuple(self.joint_names))
        for name in ('k_linear', 'k_angular', 'std_linear_per_m', 'std_angular_per_rad',
                     'k_joint', 'std_joint_per_rad'):
            _number_field(f'prior.{name}', self, name, low=0.0)
        for name in ('std_linear', 'std_angular', 'std_joint'):
            _number_field(f'prior.{name}', self, name, low=PRIOR_STD_MIN)
        _number_field('prior.goal_radius_m', self, 'goal_radius_m', low=0.0, strict=True)
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
