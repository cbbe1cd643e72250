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
Worlds for the mobile-base simulation: start pose, goal region, obstacles and arena walls.

A world is plain data loaded from YAML (``config/sim_world.yaml`` is the default). The same
object builds the MuJoCo model (``sim.diff_drive``) and the Gazebo SDF world
(``sim.gazebo_world``), so both simulators see the same obstacles. Frames: the world frame is
the REP-105 ``odom`` frame; x forward from the origin, y to the left, yaw counter-clockwise.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
from typing import Any, Mapping

import numpy as np
import yaml

PACKAGE = 'poe_steer_sim'
DEFAULT_WORLD_FILE = 'sim_world.yaml'


def _finite(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f'{owner}.{name} must be a finite number, got {value!r}')
    return float(value)


def _check_numbers(instance: Any, finite: tuple[str, ...] = (),
                   positive: tuple[str, ...] = ()) -> None:
    """Coerce the named fields of a frozen dataclass to float, rejecting bad values."""
    owner = type(instance).__name__
    for name in finite + positive:
        number = _finite(owner, name, getattr(instance, name))
        if name in positive and number <= 0.0:
            raise ValueError(f'{owner}.{name} must be > 0, got {number}')
        object.__setattr__(instance, name, number)


def _build(cls: type, owner: str, raw: Any) -> Any:
    """Build dataclass ``cls`` from mapping ``raw`` whose keys must equal its field names."""
    if not isinstance(raw, Mapping):
        raise ValueError(f'{owner} must be a mapping, got {type(raw).__name__}')
    names = [field.name for field in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ValueError(f'{owner} has unknown keys {unknown}; expected a subset of {names}')
    try:
        return cls(**raw)
    except TypeError as error:  # a required key is missing
        raise ValueError(f'{owner}: {error}; expected keys {names}') from error
    except ValueError as error:
        raise ValueError(f'{owner}: {error}') from error


@dataclasses.dataclass(frozen=True)
class Pose2D:
    """A planar pose in the world frame."""

    x_m: float = 0.0
    y_m: float = 0.0
    yaw_rad: float = 0.0

    def __post_init__(self) -> None:
        _check_numbers(self, finite=('x_m', 'y_m', 'yaw_rad'))


@dataclasses.dataclass(frozen=True)
class Region2D:
    """An axis-aligned rectangle of the world plane."""

    x_min_m: float
    x_max_m: float
    y_min_m: float
    y_max_m: float

    def __post_init__(self) -> None:
        _check_numbers(self, finite=('x_min_m', 'x_max_m', 'y_min_m', 'y_max_m'))
        if self.x_min_m >= self.x_max_m or self.y_min_m >= self.y_max_m:
            raise ValueError(f'Region2D needs x_min_m < x_max_m and y_min_m < y_max_m, got {self}')

    def contains(self, x_m: float, y_m: float) -> bool:
        """Return whether the point lies inside the rectangle (borders included)."""
        return self.x_min_m <= x_m <= self.x_max_m and self.y_min_m <= y_m <= self.y_max_m

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """Return a point ``[x, y]`` (m) drawn uniformly from the rectangle."""
        return rng.uniform([self.x_min_m, self.y_min_m], [self.x_max_m, self.y_max_m])


@dataclasses.dataclass(frozen=True)
class Arena(Region2D):
    """Walls around a rectangle of the plane; touching them counts as a collision."""

    wall_height_m: float = 0.3
    wall_thickness_m: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_numbers(self, positive=('wall_height_m', 'wall_thickness_m'))

    def walls(self) -> tuple[BoxObstacle, ...]:
        """Return the four walls as boxes whose inner faces lie on the rectangle's border."""
        thickness = self.wall_thickness_m
        center_x = (self.x_min_m + self.x_max_m) / 2
        center_y = (self.y_min_m + self.y_max_m) / 2
        length_x = self.x_max_m - self.x_min_m + 2 * thickness
        length_y = self.y_max_m - self.y_min_m
        height = self.wall_height_m
        return (
            BoxObstacle(center_x, self.y_max_m + thickness / 2, length_x, thickness, height),
            BoxObstacle(center_x, self.y_min_m - thickness / 2, length_x, thickness, height),
            BoxObstacle(self.x_max_m + thickness / 2, center_y, thickness, length_y, height),
            BoxObstacle(self.x_min_m - thickness / 2, center_y, thickness, length_y, height),
        )


@dataclasses.dataclass(frozen=True)
class CylinderObstacle:
    """An upright cylinder standing on the floor."""

    x_m: float
    y_m: float
    radius_m: float
    height_m: float = 0.5

    def __post_init__(self) -> None:
        _check_numbers(self, finite=('x_m', 'y_m'), positive=('radius_m', 'height_m'))

    def clearance(self, x_m: Any, y_m: Any) -> Any:
        """Return the distance (m) from a point (or arrays of them) to the side, < 0 inside."""
        return np.hypot(x_m - self.x_m, y_m - self.y_m) - self.radius_m


@dataclasses.dataclass(frozen=True)
class BoxObstacle:
    """A box standing on the floor, rotated by ``yaw_rad`` about its vertical axis."""

    x_m: float
    y_m: float
    size_x_m: float
    size_y_m: float
    height_m: float = 0.5
    yaw_rad: float = 0.0

    def __post_init__(self) -> None:
        _check_numbers(self, finite=('x_m', 'y_m', 'yaw_rad'),
                       positive=('size_x_m', 'size_y_m', 'height_m'))

    def clearance(self, x_m: Any, y_m: Any) -> Any:
        """Return the signed distance (m) from a point (or arrays) to the footprint, < 0 inside."""
        cos_yaw, sin_yaw = math.cos(self.yaw_rad), math.sin(self.yaw_rad)
        dx, dy = x_m - self.x_m, y_m - self.y_m
        # Point in the box frame, folded into the first quadrant, relative to the corner.
        qx = np.abs(cos_yaw * dx + sin_yaw * dy) - self.size_x_m / 2
        qy = np.abs(-sin_yaw * dx + cos_yaw * dy) - self.size_y_m / 2
        return (np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
                + np.minimum(np.maximum(qx, qy), 0.0))


Obstacle = CylinderObstacle | BoxObstacle
_OBSTACLE_SHAPES: dict[str, type] = {'cylinder': CylinderObstacle, 'box': BoxObstacle}


@dataclasses.dataclass(frozen=True)
class World:
    """
    Everything the mobile-base simulation needs besides the robot.

    :ivar start_pose: where ``reset`` puts the robot unless told otherwise.
    :ivar goal_region: where training goals are sampled; shifted evaluation goals lie outside.
    :ivar obstacles: cylinders and boxes on the floor.
    :ivar arena: optional walls around the workspace.

    """

    start_pose: Pose2D
    goal_region: Region2D
    obstacles: tuple[Obstacle, ...] = ()
    arena: Arena | None = None

    def __post_init__(self) -> None:
        if self.arena is not None:
            for label, (x_m, y_m) in (
                    ('start_pose', (self.start_pose.x_m, self.start_pose.y_m)),
                    ('goal_region lower corner', (self.goal_region.x_min_m,
                                                  self.goal_region.y_min_m)),
                    ('goal_region upper corner', (self.goal_region.x_max_m,
                                                  self.goal_region.y_max_m))):
                if not self.arena.contains(x_m, y_m):
                    raise ValueError(f'World {label} ({x_m}, {y_m}) lies outside the arena')

    @classmethod
    def from_dict(cls, raw: Any) -> World:
        """
        Build a world from its YAML mapping, rejecting unknown keys and bad values.

        :raises ValueError: naming the offending key or value.

        """
        if not isinstance(raw, Mapping):
            raise ValueError(f'world must be a mapping, got {type(raw).__name__}')
        expected = {'start_pose', 'goal_region', 'obstacles', 'arena'}
        unknown = sorted(set(raw) - expected)
        if unknown:
            raise ValueError(f'world has unknown keys {unknown}; expected {sorted(expected)}')
        for required in ('start_pose', 'goal_region'):
            if required not in raw:
                raise ValueError(f'world is missing the required key {required!r}')
        obstacles = []
        for index, entry in enumerate(raw.get('obstacles') or ()):
            owner = f'obstacles[{index}]'
            if not isinstance(entry, Mapping) or entry.get('shape') not in _OBSTACLE_SHAPES:
                raise ValueError(
                    f'{owner} needs shape one of {sorted(_OBSTACLE_SHAPES)}, got {entry!r}')
            fields = {key: value for key, value in entry.items() if key != 'shape'}
            obstacles.append(_build(_OBSTACLE_SHAPES[entry['shape']], owner, fields))
        arena = raw.get('arena')
        return cls(
            start_pose=_build(Pose2D, 'start_pose', raw['start_pose']),
            goal_region=_build(Region2D, 'goal_region', raw['goal_region']),
            obstacles=tuple(obstacles),
            arena=None if arena is None else _build(Arena, 'arena', arena),
        )

    def solids(self) -> tuple[Obstacle, ...]:
        """Return every obstacle the robot can hit: the listed ones plus the arena walls."""
        walls = self.arena.walls() if self.arena is not None else ()
        return self.obstacles + walls

    def clearance(self, x_m: Any, y_m: Any) -> Any:
        """Return the distance (m) from a point (or arrays) to the nearest solid (inf if none)."""
        result = np.full(np.broadcast(x_m, y_m).shape, math.inf)
        for solid in self.solids():
            result = np.minimum(result, solid.clearance(x_m, y_m))
        return float(result) if result.ndim == 0 else result

    def sample_goal(self, rng: np.random.Generator, clearance_m: float = 0.35,
                    max_tries: int = 1000) -> np.ndarray:
        """
        Draw a goal ``[x, y]`` (m) uniformly from the goal region, away from obstacles.

        :param rng: the random generator (the caller owns seeding).
        :param clearance_m: minimum distance from the goal to any obstacle or wall.
        :param max_tries: rejection-sampling budget.

        :raises ValueError: when no free goal was found within ``max_tries``.

        """
        for _ in range(max_tries):
            goal = self.goal_region.sample(rng)
            if self.clearance(goal[0], goal[1]) >= clearance_m:
                return goal
        raise ValueError(
            f'no goal with clearance_m={clearance_m} found in goal_region after {max_tries} '
            'tries; move the obstacles or lower clearance_m')


def load_world(path: str | pathlib.Path) -> World:
    """
    Load a world from a YAML file.

    :raises FileNotFoundError: when ``path`` does not exist.
    :raises ValueError: when its content is not a valid world (the message names the key).

    """
    path = pathlib.Path(path)
    with path.open(encoding='utf-8') as stream:
        raw = yaml.safe_load(stream)
    try:
        return World.from_dict(raw)
    except ValueError as error:
        raise ValueError(f'{path}: {error}') from error


def package_config_path(name: str) -> pathlib.Path:
    """
    Return a file of the package's ``config`` folder: installed share first, then source.

    :raises FileNotFoundError: naming both places searched.

    """
    candidates = []
    try:
        from ament_index_python.packages import get_package_share_directory
        candidates.append(pathlib.Path(get_package_share_directory(PACKAGE)) / 'config' / name)
    except (ImportError, LookupError, OSError):
        pass  # not installed, or no AMENT_PREFIX_PATH: fall back to the source tree
    candidates.append(pathlib.Path(__file__).resolve().parents[1] / 'config' / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f'{name} not found; searched {[str(c) for c in candidates]}')


def default_world() -> World:
    """Return the package's default world (``config/sim_world.yaml``)."""
    return load_world(package_config_path(DEFAULT_WORLD_FILE))


@dataclasses.dataclass(frozen=True)
class LayoutConfig:
    """
    How random obstacle layouts are drawn (``random_layout``): sizes in m, counts inclusive.

    The arena's width and depth are scaled per layout, so walls come at varied distances too.
    """

    obstacles: tuple[int, int] = (2, 7)
    cylinder_radius_m: tuple[float, float] = (0.15, 0.4)
    box_side_m: tuple[float, float] = (0.2, 1.0)
    arena_scale: tuple[float, float] = (0.7, 1.2)
    min_gap_m: float = 0.6
    """Free space kept between obstacles (and to the walls), so the robot (0.37 m across) can
    pass between any two."""

    def describe(self) -> str:
        """Return a one-line description for provenance."""
        return (f'{self.obstacles[0]}-{self.obstacles[1]} cylinders (radius '
                f'{self.cylinder_radius_m} m) and boxes (sides {self.box_side_m} m, any yaw), '
                f'>= {self.min_gap_m} m apart, arena scaled by {self.arena_scale}')


def random_layout(rng: np.random.Generator, base: World,
                  config: LayoutConfig = LayoutConfig(), max_tries: int = 200) -> World:
    """
    Draw a world like ``base`` with a scaled arena and random obstacles in it.

    Start pose and goal region are kept from ``base`` when they fit in the new arena (goals for
    training are drawn anywhere in the arena by the caller); obstacles that would overlap each
    other or the walls within ``min_gap_m`` are redrawn, up to ``max_tries`` in all.

    :raises ValueError: when ``base`` has no arena.
    """
    if base.arena is None:
        raise ValueError('random_layout needs a world with an arena')
    arena = base.arena
    scale = rng.uniform(*config.arena_scale, size=2)
    half = np.array([arena.x_max_m - arena.x_min_m, arena.y_max_m - arena.y_min_m]) * scale / 2
    centre = np.array([(arena.x_min_m + arena.x_max_m) / 2, (arena.y_min_m + arena.y_max_m) / 2])
    new_arena = dataclasses.replace(arena, x_min_m=float(centre[0] - half[0]),
                                    x_max_m=float(centre[0] + half[0]),
                                    y_min_m=float(centre[1] - half[1]),
                                    y_max_m=float(centre[1] + half[1]))
    region = Region2D(new_arena.x_min_m, new_arena.x_max_m, new_arena.y_min_m, new_arena.y_max_m)
    empty = World(Pose2D(*centre.tolist()), region, (), new_arena)
    wanted = int(rng.integers(config.obstacles[0], config.obstacles[1] + 1))
    obstacles: list[Obstacle] = []
    for _ in range(max_tries):
        if len(obstacles) == wanted:
            break
        x_m, y_m = region.sample(rng)
        if rng.random() < 0.5:
            candidate: Obstacle = CylinderObstacle(x_m, y_m, rng.uniform(
                *config.cylinder_radius_m))
            reach = candidate.radius_m
        else:
            size_x, size_y = rng.uniform(*config.box_side_m, size=2)
            candidate = BoxObstacle(x_m, y_m, size_x, size_y, yaw_rad=rng.uniform(-math.pi,
                                                                                  math.pi))
            reach = math.hypot(size_x, size_y) / 2
        others = World(empty.start_pose, region, tuple(obstacles), new_arena)
        if others.clearance(x_m, y_m) >= reach + config.min_gap_m:
            obstacles.append(candidate)
    start = base.start_pose if new_arena.contains(base.start_pose.x_m, base.start_pose.y_m) \
        else empty.start_pose
    goal_region = base.goal_region if (
        new_arena.contains(base.goal_region.x_min_m, base.goal_region.y_min_m)
        and new_arena.contains(base.goal_region.x_max_m, base.goal_region.y_max_m)) else region
    return World(start, goal_region, tuple(obstacles), new_arena)
