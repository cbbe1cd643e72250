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
Shortest obstacle-aware paths on a grid over a world: the simulation's stand-in planner.

``NavigationField`` runs Dijkstra from the goal over a grid whose edge costs rise near obstacles
(``CostShape``), so every cell knows its next step on the cheapest path to the goal and there
are no local minima. The behaviour policy that generates the training data follows it, the
``path_planner`` node publishes its paths as ``nav_msgs/Path``, and the goal-grid benchmark asks
it which goals are reachable. Nothing here imports ROS.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterator

import numpy as np
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
        clearance = world.clearance(xs[:, None], ys[None, :])
        self.cost_shape = cost_shape
        self._clearance = clearance.ravel()
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

    def free_path(self, x_m: float, y_m: float) -> np.ndarray | None:
        """
        Return ``path(x, y)`` if the robot fits along it, else None (the goal is unreachable).

        The robot fits where every cell after the first, and the goal, keeps ``contact_m`` from
        every obstacle and wall (the first cell is where the robot already is).

        :raises RuntimeError: before ``set_goal``.
        """
        cells = list(self._walk(x_m, y_m))
        goal = self._require_goal()
        if cells[-1] != self._goal_cell or self._clearance[cells[-1]] < self.cost_shape.contact_m \
                or min(self._clearance[cells[1:]], default=math.inf) < self.cost_shape.contact_m:
            return None
        return np.array([self.cell_centre(cell) for cell in cells] + [goal])

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


class PathPlanner:
    """
    The stand-in global planner: a free shortest path from a position to a goal, or None.

    One Dijkstra per goal (the last goal's field is kept), then a walk down the field per plan.
    """

    def __init__(self, world: World, resolution_m: float = 0.1,
                 cost_shape: CostShape = CostShape()) -> None:
        """Build the navigation grid of ``world``."""
        self.world = world
        self._field = NavigationField(world, resolution_m, cost_shape)
        self._goal: tuple[float, float] | None = None

    def plan(self, x_m: float, y_m: float, goal: np.ndarray) -> np.ndarray | None:
        """Return ``(n, 2)`` waypoints from ``(x, y)`` to ``goal[:2]``, or None if unreachable."""
        key = (float(goal[0]), float(goal[1]))
        if key != self._goal:
            self._field.set_goal(np.array(key))
            self._goal = key
        return self._field.free_path(x_m, y_m)

    @staticmethod
    def length_m(points: np.ndarray) -> float:
        """Return a path's length (m)."""
        return float(np.hypot(*np.diff(points, axis=0).T).sum())


def _bounding_region(world: World, margin_m: float = 1.0) -> Region2D:
    """Return a rectangle around the start, the goal region and the obstacles."""
    region, start = world.goal_region, world.start_pose
    xs = [start.x_m, region.x_min_m, region.x_max_m] + [o.x_m for o in world.obstacles]
    ys = [start.y_m, region.y_min_m, region.y_max_m] + [o.y_m for o in world.obstacles]
    return Region2D(min(xs) - margin_m, max(xs) + margin_m, min(ys) - margin_m,
                    max(ys) + margin_m)
