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
Gymnasium-style goal-reaching episodes shared by the simulated robots.

``GoalEnv`` owns what every task has in common: seeding, command checks and clipping, the
fixed number of physics steps per control step, the goal, the reward (progress toward the goal
minus a collision penalty) and the end of episodes. Subclasses bring the MuJoCo model, the state
mapping and the goal metric. Nothing here imports ROS.
"""

from __future__ import annotations

import abc
import math
from typing import Any

import numpy as np

from poe_steer_ros.core.interfaces import RobotState


def clip_command(command: Any, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """
    Check a command's shape and finiteness, then clip it to ``[low, high]``.

    :raises ValueError: when ``command`` has the wrong shape or a non-finite entry.

    """
    array = np.asarray(command, dtype=float)
    if array.shape != low.shape:
        raise ValueError(f'command must have shape {low.shape}, got {array.shape}')
    if not np.all(np.isfinite(array)):
        raise ValueError(f'command must be finite, got {array.tolist()}')
    return np.clip(array, low, high)


def steps_per_interval(interval_s: float, physics_dt_s: float, name: str) -> int:
    """
    Return how many physics steps make ``interval_s``, which must be a whole multiple.

    :raises ValueError: naming ``name`` when ``interval_s`` is not a positive multiple.

    """
    if not (math.isfinite(physics_dt_s) and physics_dt_s > 0.0):
        raise ValueError(f'physics_dt_s must be finite and > 0, got {physics_dt_s}')
    steps = round(interval_s / physics_dt_s) if math.isfinite(interval_s) else 0
    if steps < 1 or abs(steps * physics_dt_s - interval_s) > 1e-9 * max(1.0, interval_s):
        raise ValueError(f'{name}={interval_s} must be a positive whole multiple of '
                         f'physics_dt_s={physics_dt_s}')
    return steps


class GoalEnv(abc.ABC):
    """
    A seeded reset/step episode that rewards progress toward a goal.

    ``step`` returns ``(state, reward, terminated, truncated, info)`` with
    ``reward = previous distance - distance - collision_penalty * collision``, so the rewards of
    a collision-free episode add up to how much closer the robot got. An episode terminates when
    the goal is within tolerance or the robot touched an obstacle, and is truncated after
    ``max_episode_s`` of simulated time. ``info`` holds ``collision``, ``reached``, ``distance``
    and the ``command`` actually applied (after clipping).
    """

    command_names: tuple[str, ...]
    command_low: np.ndarray
    command_high: np.ndarray
    goal_dim: int

    def __init__(self, *, physics_dt_s: float, control_dt_s: float, max_episode_s: float,
                 goal_tolerance: float, collision_penalty: float, seed: int | None) -> None:
        self._substeps = steps_per_interval(control_dt_s, physics_dt_s, 'control_dt_s')
        if not (math.isfinite(max_episode_s) and max_episode_s >= control_dt_s):
            raise ValueError(f'max_episode_s must be >= control_dt_s, got {max_episode_s}')
        if not (math.isfinite(goal_tolerance) and goal_tolerance > 0.0):
            raise ValueError(f'goal tolerance must be finite and > 0, got {goal_tolerance}')
        if not (math.isfinite(collision_penalty) and collision_penalty >= 0.0):
            raise ValueError(f'collision_penalty must be finite and >= 0, got {collision_penalty}')
        self.control_dt_s = float(control_dt_s)
        self.max_episode_s = float(max_episode_s)
        self.goal_tolerance = float(goal_tolerance)
        self.collision_penalty = float(collision_penalty)
        self._max_steps = math.ceil(max_episode_s / control_dt_s - 1e-9)
        self._rng = np.random.default_rng(seed)
        self._goal: np.ndarray | None = None
        self._distance = math.nan
        self._steps = 0

    @property
    def goal(self) -> np.ndarray:
        """Return a copy of the current goal; raises RuntimeError before the first reset."""
        return self._require_goal().copy()

    @property
    def elapsed_s(self) -> float:
        """Return the simulated time since the last ``reset`` (s)."""
        return self._steps * self.control_dt_s

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[RobotState, dict[str, Any]]:
        """
        Start an episode; ``options`` may hold ``goal`` and the subclass's start keys.

        :param seed: reseeds the generator that samples goals (None keeps its stream).
        :param options: ``{'goal': array}`` fixes the goal instead of sampling it; see the
            subclass for the start-state keys.

        :raises ValueError: for unknown option keys or a bad goal or start state.

        """
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        remaining = dict(options or {})
        goal = remaining.pop('goal', None)
        start = {key: remaining.pop(key) for key in self.start_option_keys() if key in remaining}
        if remaining:
            raise ValueError(
                f'unknown reset options {sorted(remaining)}; expected a subset of '
                f"{['goal', *self.start_option_keys()]}")
        goal_array = self._sample_goal(self._rng) if goal is None else self._check_goal(goal)
        self._reset_physics(start)
        self._goal = goal_array
        self._steps = 0
        self._distance = self._goal_distance(goal_array)
        reached = self._distance <= self.goal_tolerance
        return self.state(), {'collision': False, 'reached': reached, 'distance': self._distance}

    def step(self, command: Any) -> tuple[RobotState, float, bool, bool, dict[str, Any]]:
        """
        Apply ``command`` (clipped to the bounds) for one control step.

        :raises ValueError: when ``command`` has the wrong shape or a non-finite entry.
        :raises RuntimeError: before the first ``reset``.

        """
        goal = self._require_goal()
        applied = clip_command(command, self.command_low, self.command_high)
        collision = self._advance(applied, self._substeps)
        distance = self._goal_distance(goal)
        reward = self._distance - distance - (self.collision_penalty if collision else 0.0)
        self._distance = distance
        self._steps += 1
        reached = distance <= self.goal_tolerance
        terminated = reached or collision
        truncated = not terminated and self._steps >= self._max_steps
        info = {'collision': collision, 'reached': reached, 'distance': distance,
                'command': applied}
        return self.state(), float(reward), terminated, truncated, info

    def _require_goal(self) -> np.ndarray:
        if self._goal is None:
            raise RuntimeError('call reset() before using the environment')
        return self._goal

    def _check_goal(self, goal: Any) -> np.ndarray:
        array = np.asarray(goal, dtype=float)
        if array.shape != (self.goal_dim,) or not np.all(np.isfinite(array)):
            raise ValueError(
                f'goal must be {self.goal_dim} finite numbers, got {np.asarray(goal).tolist()}')
        return array

    @abc.abstractmethod
    def start_option_keys(self) -> tuple[str, ...]:
        """Return the reset option keys that set the start state."""

    @abc.abstractmethod
    def state(self) -> RobotState:
        """Return the robot state with the canonical keys of ``core.interfaces``."""

    @abc.abstractmethod
    def _sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        """Draw a training goal."""

    @abc.abstractmethod
    def _reset_physics(self, start: dict[str, Any]) -> None:
        """Put the robot in its start state (``start`` holds the given start options)."""

    @abc.abstractmethod
    def _advance(self, command: np.ndarray, steps: int) -> bool:
        """Apply ``command`` for ``steps`` physics steps; return whether it touched an obstacle."""

    @abc.abstractmethod
    def _goal_distance(self, goal: np.ndarray) -> float:
        """Return the distance from the current state to ``goal``."""
