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
OGBench PointMaze through ogbench's own environments, plus a BFS oracle over its maze grid.

The oracle follows OGBench's documented navigation rule: from the agent's cell, step toward the
free neighbour cell (4-neighbourhood) with the smallest BFS distance to the goal cell, and head
for that cell's centre (at the goal cell, for its centre). Distance maps are computed once per
goal cell and cached, so a step costs a table lookup instead of a BFS.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np

MAZES = ('medium', 'large', 'giant', 'teleport')
"""PointMaze layouts ogbench registers (``pointmaze-<maze>-v0``)."""
GOALS = (1, 2, 3, 4, 5)
"""OGBench's five named evaluation tasks per maze."""
ACTION_NAMES = ('move.x', 'move.y')
"""A PointMaze action: the xy displacement, in [-1, 1] (the env moves 0.2 units per unit)."""
OBSERVATION_FIELDS = ('array.0', 'array.1')
"""A PointMaze state observation: the point's xy position (``qpos``)."""
_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1))
"""The order OGBench's oracle tries neighbours in (ties go to the first)."""


def env_id(maze: str) -> str:
    """Return ogbench's goal-conditioned environment id of a PointMaze layout."""
    if maze not in MAZES:
        raise ValueError(f'maze must be one of {MAZES}, got {maze!r}')
    return f'pointmaze-{maze}-v0'


def make_env(maze: str, **kwargs: Any) -> Any:
    """Return ogbench's PointMaze environment, unwrapped (we count steps ourselves)."""
    import gymnasium
    import ogbench.locomaze  # noqa: F401  (registers the environments)

    return gymnasium.make(env_id(maze), **kwargs).unwrapped


class MazeGrid:
    """
    The maze's cells and the BFS oracle over them.

    :param env: an unwrapped ogbench maze environment (its ``maze_map`` and cell geometry).
    """

    def __init__(self, env: Any) -> None:
        """Copy the grid and the helpers mapping cells to positions."""
        self.maze_map = np.asarray(env.maze_map)
        self._xy_to_ij = env.xy_to_ij
        self._ij_to_xy = env.ij_to_xy
        self.free_cells = [tuple(cell) for cell in np.argwhere(self.maze_map == 0).tolist()]
        self.vertex_cells = [cell for cell in self.free_cells if not self._is_hallway(cell)]
        self.task_cells = [(info['init_ij'], info['goal_ij']) for info in env.task_infos]
        self._distances: dict[tuple[int, int], np.ndarray] = {}

    def _free(self, i: int, j: int) -> bool:
        rows, columns = self.maze_map.shape
        return 0 <= i < rows and 0 <= j < columns and self.maze_map[i, j] == 0

    def _is_hallway(self, cell: tuple[int, int]) -> bool:
        """Return whether a cell is a straight corridor piece (OGBench samples no goal there)."""
        i, j = cell
        vertical = self._free(i - 1, j) and self._free(i + 1, j) and not (
            self._free(i, j - 1) or self._free(i, j + 1))
        horizontal = self._free(i, j - 1) and self._free(i, j + 1) and not (
            self._free(i - 1, j) or self._free(i + 1, j))
        return vertical or horizontal

    def distances(self, goal_cell: tuple[int, int]) -> np.ndarray:
        """Return the BFS step count from every cell to ``goal_cell`` (-1: unreachable)."""
        if goal_cell in self._distances:
            return self._distances[goal_cell]
        distance = np.full(self.maze_map.shape, -1, dtype=np.int64)
        distance[goal_cell] = 0
        queue = collections.deque([goal_cell])
        while queue:
            i, j = queue.popleft()
            for di, dj in _NEIGHBOURS:
                ni, nj = i + di, j + dj
                if self._free(ni, nj) and distance[ni, nj] < 0:
                    distance[ni, nj] = distance[i, j] + 1
                    queue.append((ni, nj))
        self._distances[goal_cell] = distance
        return distance

    def cell_of(self, xy: np.ndarray) -> tuple[int, int]:
        """Return the grid cell containing a position."""
        i, j = self._xy_to_ij(xy)
        return int(i), int(j)

    def centre(self, cell: tuple[int, int]) -> np.ndarray:
        """Return a cell's centre position."""
        return np.array(self._ij_to_xy(cell), dtype=np.float64)

    def subgoal(self, xy: np.ndarray, goal_xy: np.ndarray) -> np.ndarray:
        """Return the oracle's subgoal: the centre of the next cell on a shortest path."""
        distance = self.distances(self.cell_of(goal_xy))
        best = here = self.cell_of(xy)
        for di, dj in _NEIGHBOURS:
            cell = (here[0] + di, here[1] + dj)
            if self._free(*cell) and distance[cell] < distance[best]:
                best = cell
        return self.centre(best)

    def direction(self, xy: np.ndarray, goal_xy: np.ndarray) -> np.ndarray:
        """Return the unit vector from ``xy`` toward the oracle's subgoal (noise-free action)."""
        offset = self.subgoal(xy, goal_xy) - np.asarray(xy, dtype=np.float64)
        return offset / (np.linalg.norm(offset) + 1e-6)

    def path_length(self, xy: np.ndarray, goal_xy: np.ndarray) -> int:
        """Return the BFS distance in cells between two positions' cells."""
        return int(self.distances(self.cell_of(goal_xy))[self.cell_of(xy)])
