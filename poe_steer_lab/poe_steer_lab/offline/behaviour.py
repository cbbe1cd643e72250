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
from typing import Iterator

import numpy as np
from poe_steer_ros.core.interfaces import BASE_X, BASE_Y, BASE_YAW, RobotState
from poe_steer_sim.world import Region2D, World
import scipy.sparse
import scipy.sparse.csgraph

_NEIGHBOURS = ((0, 1), (1, 0), (1, 1), (1, -1))
"""Half of the 8-neighbourhood; the graph is undirected."""


@dataclasses.dataclass(frozen=True)
class CostShape:
    """
    How close to obstacles paths may run: the traversal cost per metre of a grid cell.

    Cost 1 where the robot centre is at least ``comfort_m`` from every obstacle, rising linearly
    to ``1 + near_penalty`` at ``contact_m`` (the robot's half-diagonal plus a margin), and
    steeply beyond, so cells inside obstacles stay connected: a robot pushed there finds its
    way out.
    """

    contact_m: float = 0.22
    comfort_m: float = 0.5
    near_penalty: float = 20.0
    inside_penalty_per_m: float = 500.0

    def __post_init__(self) -> None:
        """Check that the distances are ordered and the penalties non-negative."""
        if not 0.0 < self.contact_m < self.comfort_m:
            raise ValueError(f'contact_m and comfort_m must satisfy 0 < contact_m < comfort_m, '
                             f'got {self.contact_m} and {self.comfort_m}')
        if self.near_penalty < 0.0 or self.inside_penalty_per_m < 0.0:
            raise ValueError('near_penalty and inside_penalty_per_m must be >= 0')

    def cost(self, clearance_m: np.ndarray) -> np.ndarray:
        """Return the cost per metre for each clearance (m)."""
        rising = np.clip((self.comfort_m - clearance_m) / (self.comfort_m - self.contact_m),
                         0.0, 1.0)
        inside = np.maximum(self.contact_m - clearance_m, 0.0)
        cost: np.ndarray = 1.0 + self.near_penalty * rising + self.inside_penalty_per_m * inside
        return cost


class NavigationField:
    """
    Shortest obstacle-aware paths to a goal on a grid over the world (no local minima).

    The grid covers the arena (or, without one, the start, goal region and obstacles with a
    margin). ``set_goal`` runs one Dijkstra from the goal's cell; ``lookahead`` then walks the
    shortest path from any position toward the goal.
    """

    def __init__(self, world: World, resolution_m: float = 0.1,
                 cost_shape: CostShape = CostShape()) -> None:
        """
        Build the grid graph of ``world`` (edge weight: length times mean cell cost).

        :raises ValueError: if ``resolution_m`` is not positive.
        """
        if not (math.isfinite(resolution_m) and resolution_m > 0.0):
            raise ValueError(f'resolution_m must be > 0, got {resolution_m}')
        bounds = world.arena or _bounding_region(world)
        self.resolution_m = float(resolution_m)
        self._origin = np.array([bounds.x_min_m, bounds.y_min_m]) + resolution_m / 2
        self._shape = (max(1, int((bounds.x_max_m - bounds.x_min_m) / resolution_m)),
                       max(1, int((bounds.y_max_m - bounds.y_min_m) / resolution_m)))
        xs = self._origin[0] + resolution_m * np.arange(self._shape[0])
        ys = self._origin[1] + resolution_m * np.arange(self._shape[1])
        clearance = np.array([[world.clearance(x, y) for y in ys] for x in xs])
        cost = cost_shape.cost(clearance).ravel()
        index = np.arange(cost.size).reshape(self._shape)
        sources, targets, weights = [], [], []
        for di, dj in _NEIGHBOURS:
            rows = slice(0, self._shape[0] - di)
            first = index[rows, max(0, -dj):self._shape[1] - max(0, dj)].ravel()
            second = index[di:, max(0, dj):self._shape[1] - max(0, -dj)].ravel()
            sources.append(first)
            targets.append(second)
            weights.append(math.hypot(di, dj) * resolution_m * (cost[first] + cost[second]) / 2)
        self._graph = scipy.sparse.csr_matrix(
            (np.concatenate(weights), (np.concatenate(sources), np.concatenate(targets))),
            shape=(cost.size, cost.size))
        self._goal: np.ndarray | None = None
        self._goal_cell = -1
        self._next_cell = np.empty(0, dtype=np.int64)

    def cell_of(self, x_m: float, y_m: float) -> int:
        """Return the flat index of the grid cell nearest to a point (clamped into the grid)."""
        i = int(np.clip(round((x_m - self._origin[0]) / self.resolution_m), 0, self._shape[0] - 1))
        j = int(np.clip(round((y_m - self._origin[1]) / self.resolution_m), 0, self._shape[1] - 1))
        return i * self._shape[1] + j

    def cell_centre(self, cell: int) -> np.ndarray:
        """Return the centre ``[x, y]`` (m) of a grid cell."""
        i, j = divmod(cell, self._shape[1])
        return self._origin + self.resolution_m * np.array([i, j], dtype=float)

    def set_goal(self, goal: np.ndarray) -> None:
        """Compute every cell's next step on its shortest path to ``goal`` (x, y in m)."""
        self._goal = np.asarray(goal, dtype=float)[:2].copy()
        self._goal_cell = self.cell_of(*self._goal)
        _, predecessors = scipy.sparse.csgraph.dijkstra(
            self._graph, directed=False, indices=self._goal_cell, return_predecessors=True)
        self._next_cell = predecessors

    def path(self, x_m: float, y_m: float) -> np.ndarray:
        """
        Return the shortest path from ``(x, y)`` to the goal: cell centres, then the goal.

        :returns: ``(points, 2)`` array of ``[x, y]`` (m).
        :raises RuntimeError: before ``set_goal``.
        """
        centres = [self.cell_centre(cell) for cell in self._walk(x_m, y_m)]
        return np.array(centres + [self._require_goal()])

    def lookahead(self, x_m: float, y_m: float, distance_m: float) -> np.ndarray:
        """
        Return the point about ``distance_m`` ahead on the shortest path from ``(x, y)``.

        That is the centre of the cell that many cells down the path, or the goal itself when
        the path ends sooner.

        :raises RuntimeError: before ``set_goal``.
        """
        cells_ahead = max(1, round(distance_m / self.resolution_m))
        for index, cell in enumerate(self._walk(x_m, y_m)):
            if index == cells_ahead:
                return self.cell_centre(cell)
        return self._require_goal().copy()

    def _walk(self, x_m: float, y_m: float) -> Iterator[int]:
        """Yield the cells of the shortest path from the cell of ``(x, y)`` to the goal's."""
        self._require_goal()
        cell = self.cell_of(x_m, y_m)
        yield cell
        while cell != self._goal_cell and self._next_cell[cell] >= 0:
            cell = int(self._next_cell[cell])
            yield cell

    def _require_goal(self) -> np.ndarray:
        if self._goal is None:
            raise RuntimeError('call set_goal before asking NavigationField for a path')
        return self._goal


def _bounding_region(world: World, margin_m: float = 1.0) -> Region2D:
    """Return a rectangle around the start, the goal region and the obstacles."""
    region, start = world.goal_region, world.start_pose
    xs = [start.x_m, region.x_min_m, region.x_max_m] + [o.x_m for o in world.obstacles]
    ys = [start.y_m, region.y_min_m, region.y_max_m] + [o.y_m for o in world.obstacles]
    return Region2D(min(xs) - margin_m, max(xs) + margin_m, min(ys) - margin_m,
                    max(ys) + margin_m)


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
