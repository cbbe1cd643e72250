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

"""The stand-in planner: free shortest paths, and the ``path_planner`` node as a real process."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

from nav_msgs.msg import Odometry, Path
import numpy as np
from poe_steer_sim.navigation import CostShape, PathPlanner
from poe_steer_sim.world import default_world
import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter

WORLD = default_world()
DEADLINE_S = 30.0


def test_paths_keep_clear_of_obstacles_and_unreachable_goals_get_none():
    planner = PathPlanner(WORLD)
    path = planner.plan(0.0, 0.0, np.array([4.0, 1.5]))
    assert path is not None
    np.testing.assert_allclose(path[-1], [4.0, 1.5])
    assert min(WORLD.clearance(x, y) for x, y in path[1:]) >= CostShape().contact_m
    assert PathPlanner.length_m(path) >= np.hypot(4.0, 1.5)
    cylinder = WORLD.obstacles[0]
    assert planner.plan(0.0, 0.0, np.array([cylinder.x_m, cylinder.y_m])) is None
    assert planner.plan(0.0, 0.0, np.array([5.45, 0.0])) is None  # against the wall


@pytest.mark.ros
def test_node_plans_for_the_steering_node_goal_and_follows_its_changes(tmp_path: pathlib.Path):
    domain = 1 + (os.getpid() + 53) % 100
    env = {**os.environ, 'ROS_DOMAIN_ID': str(domain)}
    log = (tmp_path / 'planner.log').open('w')
    process = subprocess.Popen(
        [sys.executable, '-c', 'from poe_steer_sim.path_planner_node import main; main()',
         '--ros-args', '-p', 'replan_period_s:=0.2'], env=env, stdout=log,
        stderr=subprocess.STDOUT)
    context = Context()
    rclpy.init(context=context, domain_id=domain)
    try:
        steer = Node('poe_steer', context=context)
        steer.declare_parameter('goal', [4.0, 1.5])
        paths: list[Path] = []
        steer.create_subscription(Path, 'path', paths.append, 1)
        odometry = steer.create_publisher(Odometry, 'odom', 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(steer)

        def wait_for_path_to(goal: tuple[float, float]) -> Path:
            deadline = time.monotonic() + DEADLINE_S
            while time.monotonic() < deadline:
                odometry.publish(Odometry())
                executor.spin_once(timeout_sec=0.05)
                if paths and paths[-1].poses:
                    end = paths[-1].poses[-1].pose.position
                    if np.hypot(end.x - goal[0], end.y - goal[1]) < 1e-6:
                        return paths[-1]
            raise AssertionError(f'no path to {goal}; planner log:\n'
                                 f'{(tmp_path / "planner.log").read_text()}')

        first = wait_for_path_to((4.0, 1.5))
        assert first.header.frame_id == 'odom' and len(first.poses) > 10
        steer.set_parameters([Parameter('goal', value=[-1.0, 0.0])])
        wait_for_path_to((-1.0, 0.0))
        executor.shutdown()
        steer.destroy_node()
    finally:
        rclpy.shutdown(context=context)
        process.terminate()
        process.wait(timeout=10)
        log.close()
