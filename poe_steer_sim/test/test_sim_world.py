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

"""Worlds: YAML loading, validation, obstacle geometry and goal sampling."""

import math
import os
import pathlib
import re
import subprocess
import sys

from hypothesis import given, settings, strategies as st
import numpy as np
from poe_steer_sim.world import Arena, BoxObstacle, CylinderObstacle, default_world, \
    LayoutConfig, load_world, package_config_path, random_layout, World
import pytest
import yaml

coordinates = st.floats(min_value=-5.0, max_value=5.0)
sizes = st.floats(min_value=0.05, max_value=2.0)


def minimal_world(**overrides: object) -> dict:
    raw = {'start_pose': {'x_m': 0.0, 'y_m': 0.0, 'yaw_rad': 0.0},
           'goal_region': {'x_min_m': 2.0, 'x_max_m': 3.0, 'y_min_m': -1.0, 'y_max_m': 1.0}}
    raw.update(overrides)
    return raw


def test_default_world_puts_obstacles_between_start_and_goal_region() -> None:
    world = default_world()
    start = world.start_pose
    region = world.goal_region
    assert (start.x_m, start.y_m, start.yaw_rad) == (0.0, 0.0, 0.0)
    assert region.x_min_m > start.x_m
    assert world.obstacles, 'the default world must make obstacle avoidance matter'
    # The straight line from the start to the region's centre runs into an obstacle.
    centre = ((region.x_min_m + region.x_max_m) / 2, (region.y_min_m + region.y_max_m) / 2)
    line = np.linspace((start.x_m, start.y_m), centre, 200)
    assert min(world.clearance(x, y) for x, y in line) < 0.2
    assert all(start.x_m < obstacle.x_m < region.x_min_m for obstacle in world.obstacles)


def test_world_yaml_loads_every_field(tmp_path) -> None:
    raw = minimal_world(
        obstacles=[{'shape': 'cylinder', 'x_m': 1.0, 'y_m': 0.5, 'radius_m': 0.2},
                   {'shape': 'box', 'x_m': 1.5, 'y_m': -0.5, 'size_x_m': 0.4, 'size_y_m': 0.2,
                    'height_m': 0.3, 'yaw_rad': 0.5}],
        arena={'x_min_m': -1.0, 'x_max_m': 4.0, 'y_min_m': -2.0, 'y_max_m': 2.0})
    path = tmp_path / 'world.yaml'
    path.write_text(yaml.safe_dump(raw))
    world = load_world(path)
    assert world.obstacles == (CylinderObstacle(1.0, 0.5, 0.2),
                               BoxObstacle(1.5, -0.5, 0.4, 0.2, 0.3, 0.5))
    assert world.arena == Arena(-1.0, 4.0, -2.0, 2.0)
    assert len(world.solids()) == 6


@pytest.mark.parametrize('raw, message', [
    (minimal_world(extra=1), 'unknown keys'),
    (minimal_world(start_pose={'x_m': 0.0, 'y': 1.0}), 'start_pose has unknown keys'),
    (minimal_world(goal_region={'x_min_m': 3.0, 'x_max_m': 2.0, 'y_min_m': 0, 'y_max_m': 1}),
     'x_min_m < x_max_m'),
    (minimal_world(obstacles=[{'shape': 'cone', 'x_m': 1.0}]), 'obstacles[0] needs shape'),
    (minimal_world(obstacles=[{'shape': 'cylinder', 'x_m': 1.0, 'y_m': 0.0,
                               'radius_m': -0.1}]), 'radius_m must be > 0'),
    (minimal_world(obstacles=[{'shape': 'box', 'x_m': 1.0, 'y_m': 0.0}]), 'obstacles[0]:'),
    (minimal_world(start_pose={'x_m': math.nan}), 'x_m must be a finite number'),
    (minimal_world(arena={'x_min_m': 1.0, 'x_max_m': 4.0, 'y_min_m': -2.0, 'y_max_m': 2.0}),
     'start_pose (0.0, 0.0) lies outside the arena'),
    ({'start_pose': {}}, "missing the required key 'goal_region'"),
])
def test_invalid_world_is_rejected_with_the_offending_key(raw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        World.from_dict(raw)


def test_load_world_names_the_file_in_errors(tmp_path) -> None:
    path = tmp_path / 'bad.yaml'
    path.write_text('start_pose: 3\n')
    with pytest.raises(ValueError, match='bad.yaml'):
        load_world(path)


@settings(max_examples=200, deadline=None)
@given(x=coordinates, y=coordinates, size_x=sizes, size_y=sizes,
       yaw=st.floats(min_value=-math.pi, max_value=math.pi))
def test_box_clearance_matches_a_dense_sampling_of_its_outline(
        x: float, y: float, size_x: float, size_y: float, yaw: float) -> None:
    box = BoxObstacle(0.3, -0.2, size_x, size_y, yaw_rad=yaw)
    u, v = np.meshgrid(np.linspace(-0.5, 0.5, 81), [-0.5, 0.5])
    local = np.concatenate([np.stack([u.ravel() * size_x, v.ravel() * size_y], axis=1),
                            np.stack([v.ravel() * size_x, u.ravel() * size_y], axis=1)])
    rotation = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])
    outline = local @ rotation.T + (0.3, -0.2)
    nearest = np.min(np.hypot(outline[:, 0] - x, outline[:, 1] - y))
    clearance = box.clearance(x, y)
    spacing = max(size_x, size_y) / 80
    assert abs(abs(clearance) - nearest) <= spacing
    inside = np.all(np.abs(np.linalg.solve(rotation, (x - 0.3, y + 0.2))) < (size_x / 2,
                                                                             size_y / 2))
    if abs(clearance) > spacing:
        assert (clearance < 0) == inside


@given(x=coordinates, y=coordinates, radius=sizes)
def test_cylinder_clearance_is_distance_to_its_side(x: float, y: float, radius: float) -> None:
    cylinder = CylinderObstacle(1.0, -1.0, radius)
    assert cylinder.clearance(x, y) == pytest.approx(math.hypot(x - 1.0, y + 1.0) - radius)


def test_arena_walls_enclose_the_rectangle() -> None:
    arena = Arena(-1.0, 4.0, -2.0, 2.0, wall_thickness_m=0.2)
    walls = arena.walls()
    for x, y in [(-1.0, 0.0), (4.0, 0.0), (0.0, 2.0), (0.0, -2.0), (-1.0, 2.0)]:
        assert min(wall.clearance(x, y) for wall in walls) == pytest.approx(0.0, abs=1e-12)
    assert min(wall.clearance(1.5, 0.0) for wall in walls) == pytest.approx(2.0)


def test_sampled_goals_lie_in_the_region_and_clear_of_obstacles() -> None:
    world = default_world()
    rng = np.random.default_rng(3)
    goals = np.array([world.sample_goal(rng, clearance_m=0.35) for _ in range(300)])
    region = world.goal_region
    assert np.all((goals[:, 0] >= region.x_min_m) & (goals[:, 0] <= region.x_max_m))
    assert np.all((goals[:, 1] >= region.y_min_m) & (goals[:, 1] <= region.y_max_m))
    assert min(world.clearance(x, y) for x, y in goals) >= 0.35
    assert np.ptp(goals[:, 1]) > 1.5, 'goals should cover the region'


def test_sampling_fails_loudly_when_no_goal_is_free() -> None:
    world = World.from_dict(minimal_world(
        obstacles=[{'shape': 'box', 'x_m': 2.5, 'y_m': 0.0, 'size_x_m': 2.0, 'size_y_m': 3.0}]))
    with pytest.raises(ValueError, match='clearance_m'):
        world.sample_goal(np.random.default_rng(0), max_tries=50)


def test_package_config_path_finds_the_source_tree_files() -> None:
    assert package_config_path('sim_world.yaml').is_file()
    with pytest.raises(FileNotFoundError, match='no_such.yaml'):
        package_config_path('no_such.yaml')


def test_sim_environments_import_without_ros() -> None:
    modules = ['poe_steer_sim.world', 'poe_steer_sim.diff_drive', 'poe_steer_sim.arm',
               'poe_steer_sim.gazebo_world']
    code = ('import sys; sys.modules["rclpy"] = None\n'
            f'import {", ".join(modules)}\n'
            'poe_steer_sim.world.default_world()')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(pathlib.Path(__file__).resolve().parents[1]),
                      os.environ.get('PYTHONPATH')])))
    subprocess.run([sys.executable, '-c', code], env=env, check=True)


def test_random_layouts_are_seeded_inside_the_arena_and_leave_gaps() -> None:
    base = default_world()
    config = LayoutConfig()
    first = random_layout(np.random.default_rng(3), base, config)
    assert first == random_layout(np.random.default_rng(3), base, config)
    for seed in range(20):
        world = random_layout(np.random.default_rng(seed), base, config)
        assert config.obstacles[0] <= len(world.obstacles) <= config.obstacles[1]
        arena = world.arena
        width = arena.x_max_m - arena.x_min_m
        assert 0.7 * 7.0 - 1e-9 <= width <= 1.2 * 7.0 + 1e-9
        for index, obstacle in enumerate(world.obstacles):
            assert arena.contains(obstacle.x_m, obstacle.y_m)
            others = World(world.start_pose, world.goal_region,
                           world.obstacles[:index] + world.obstacles[index + 1:], arena)
            assert others.clearance(obstacle.x_m, obstacle.y_m) > config.min_gap_m
