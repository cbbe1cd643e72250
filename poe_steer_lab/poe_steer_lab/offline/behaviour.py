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
Behaviour policies that generate the offline dataset: noisy goal-seeking controllers.

``GoalSeekingBehaviour`` follows the shortest obstacle-avoiding path to its goal (a navigation
field computed by Dijkstra on a grid over the world, ``NavigationField``) with a
pure-pursuit-style controller, and spoils it the way a human demonstrator or a worn robot
would: speed, turn gain and look-ahead drawn per episode, correlated (AR(1)) noise on the
commands, and occasional bursts of random commands. The planner is a function of the position
and the goal only, so the data have one mode per state: what a Gaussian actor can learn.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from poe_steer_ros.core.interfaces import BASE_X, BASE_Y, BASE_YAW, RobotState
from poe_steer_sim.navigation import NavigationField
from poe_steer_sim.world import World


@dataclasses.dataclass(frozen=True)
class BehaviourConfig:
    """
    Ranges the behaviour policy draws its per-episode character from, and its noise.

    Commands are ``[v m/s, w rad/s]``; every command is clipped to the command bounds.
    """

    cruise_speed_m_s: tuple[float, float] = (0.45, 0.9)
    """Forward speed on straight path sections (drawn per episode)."""
    turn_gain_per_s: tuple[float, float] = (1.5, 3.0)
    """Yaw rate per radian of heading error (drawn per episode)."""
    lookahead_m: tuple[float, float] = (0.3, 0.6)
    """How far ahead on the path the controller aims (drawn per episode)."""
    approach_gain_per_s: float = 0.8
    """Forward speed per metre to the goal near it (slows down on arrival)."""
    noise_scale: tuple[float, float] = (0.0, 1.0)
    """Multiplier of ``noise_std`` drawn per episode: from clean to fully noisy demonstrators."""
    noise_std: tuple[float, float] = (0.15, 0.6)
    """Std of the AR(1) command noise at scale 1 (m/s, rad/s)."""
    noise_correlation: float = 0.9
    """AR(1) coefficient per control step (0.9 at 20 Hz: about half a second of memory)."""
    burst_probability: float = 0.01
    """Chance per control step of starting a burst of one random command."""
    burst_steps: tuple[int, int] = (4, 16)
    """Length of a burst in control steps (drawn per burst)."""

    def __post_init__(self) -> None:
        """Check ranges and probabilities; raise ValueError naming the field."""
        for name in ('cruise_speed_m_s', 'turn_gain_per_s', 'lookahead_m', 'noise_scale',
                     'noise_std', 'burst_steps'):
            low, high = getattr(self, name)
            if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high):
                raise ValueError(f'{name} must be a range 0 <= low <= high, got {(low, high)}')
        if not 0.0 <= self.noise_correlation < 1.0:
            raise ValueError(f'noise_correlation must be in [0, 1), got {self.noise_correlation}')
        if not 0.0 <= self.burst_probability <= 1.0:
            raise ValueError(f'burst_probability must be in [0, 1], got {self.burst_probability}')

    def describe(self) -> str:
        """Return a one-line description for provenance."""
        return (f'noisy shortest-path follower (Dijkstra navigation field, pure pursuit): cruise '
                f'speed {self.cruise_speed_m_s} m/s, turn gain {self.turn_gain_per_s} 1/s, '
                f'look-ahead {self.lookahead_m} m, AR({self.noise_correlation}) command noise '
                f'std {self.noise_std} x U{self.noise_scale}, random bursts p='
                f'{self.burst_probability}/step of {self.burst_steps} steps')


class GoalSeekingBehaviour:
    """
    A noisy goal-seeking controller around obstacles (a ``rollout.Policy``).

    One navigation field per goal is cached, so repeated goals cost one Dijkstra.
    """

    def __init__(self, world: World, command_low: np.ndarray, command_high: np.ndarray,
                 config: BehaviourConfig = BehaviourConfig()) -> None:
        """Build the navigation grid of ``world``."""
        self.config = config
        self._field = NavigationField(world)
        self._low = np.asarray(command_low, dtype=float)
        self._high = np.asarray(command_high, dtype=float)
        self._goal_key: tuple[float, ...] | None = None
        self.start_episode(0)

    def start_episode(self, seed: int) -> None:
        """Draw this episode's speed, gains, look-ahead and noise level from ``seed``."""
        config, rng = self.config, np.random.default_rng(seed)
        self._rng = rng
        self._cruise = rng.uniform(*config.cruise_speed_m_s)
        self._turn_gain = rng.uniform(*config.turn_gain_per_s)
        self._lookahead = rng.uniform(*config.lookahead_m)
        self._noise_std = rng.uniform(*config.noise_scale) * np.asarray(config.noise_std)
        self._noise = np.zeros(2)
        self._burst_left = 0
        self._burst_command = np.zeros(2)

    def __call__(self, state: RobotState, goal: np.ndarray, time_s: float) -> np.ndarray:
        """Return the noisy path-following command ``[v, w]`` for this state and goal."""
        command = self._clean_command(state, goal)
        config, rng = self.config, self._rng
        rho = config.noise_correlation
        self._noise = rho * self._noise + math.sqrt(1.0 - rho**2) * self._noise_std * \
            rng.standard_normal(2)
        if self._burst_left == 0 and rng.random() < config.burst_probability:
            self._burst_left = int(rng.integers(config.burst_steps[0], config.burst_steps[1] + 1))
            self._burst_command = rng.uniform(self._low, self._high)
        if self._burst_left > 0:
            self._burst_left -= 1
            return self._burst_command.copy()
        return np.clip(command + self._noise, self._low, self._high)

    def _clean_command(self, state: RobotState, goal: np.ndarray) -> np.ndarray:
        goal_key = tuple(np.asarray(goal, dtype=float)[:2].tolist())
        if goal_key != self._goal_key:
            self._field.set_goal(np.asarray(goal_key))
            self._goal_key = goal_key
        x, y, yaw = state[BASE_X], state[BASE_Y], state[BASE_YAW]
        target = self._field.lookahead(x, y, self._lookahead)
        dx, dy = target[0] - x, target[1] - y
        heading_error = math.remainder(math.atan2(dy, dx) - yaw, math.tau)
        distance = math.hypot(goal_key[0] - x, goal_key[1] - y)
        alignment = max(math.cos(heading_error), 0.0) ** 2
        speed = min(self._cruise, self.config.approach_gain_per_s * distance + 0.1)
        return np.array([speed * alignment, self._turn_gain * heading_error])
