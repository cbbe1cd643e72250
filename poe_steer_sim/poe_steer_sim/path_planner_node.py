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
``path_planner``: the simulation's stand-in global planner, publishing ``nav_msgs/Path``.

Like Nav2's planner server it turns the robot's pose and a goal into a path on ``path`` (frame
``odom``), which the steering node follows with ``prior.type: path``. The goal is the steering
node's own ``goal`` parameter: read once at start-up through its GetParameters service and then
followed on ``/parameter_events``, so ``ros2 param set /poe_steer goal ...`` re-plans at once. The
path is re-planned from the latest odometry every ``replan_period_s``; an unreachable goal gets
an empty path (the steering node then falls back to its pose prior).
"""

from __future__ import annotations

import pathlib
from typing import Any

from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry, Path
import numpy as np
from poe_steer_sim.navigation import PathPlanner
from poe_steer_sim.world import DEFAULT_WORLD_FILE, load_world, package_config_path
from rcl_interfaces.msg import ParameterEvent
from rcl_interfaces.srv import GetParameters
import rclpy
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data

NODE_NAME = 'path_planner'
FRAME = 'odom'


class PathPlannerNode(Node):
    """Publishes the planner's path from the latest pose to the steering node's goal."""

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        world_file = self.declare_parameter('world_file', '').value
        steer_node = str(self.declare_parameter('steer_node', '').value)
        # Default: the steering node beside this one, in the same namespace.
        self._steer_node = steer_node or f"{self.get_namespace().rstrip('/')}/poe_steer"
        period_s = float(self.declare_parameter('replan_period_s', 0.5).value)
        path = pathlib.Path(world_file) if world_file else package_config_path(DEFAULT_WORLD_FILE)
        self._planner = PathPlanner(load_world(path))
        self._goal: np.ndarray | None = None
        self._position: tuple[float, float] | None = None
        self._publisher = self.create_publisher(Path, 'path', 1)
        self.create_subscription(Odometry, 'odom', self._on_odometry, qos_profile_sensor_data)
        self.create_subscription(ParameterEvent, '/parameter_events', self._on_parameters, 10)
        self._client = self.create_client(GetParameters, f'{self._steer_node}/get_parameters')
        self._asking = False
        self.create_timer(period_s, self._on_timer)
        self.get_logger().info(f'planning on world {path} for {self._steer_node} every '
                               f'{period_s:g} s')

    def _on_odometry(self, message: Odometry) -> None:
        position = message.pose.pose.position
        self._position = (position.x, position.y)

    def _on_parameters(self, event: ParameterEvent) -> None:
        if event.node != self._steer_node:
            return
        for parameter in (*event.new_parameters, *event.changed_parameters):
            if parameter.name == 'goal':
                self._set_goal(parameter.value.double_array_value)

    def _set_goal(self, values: Any) -> None:
        goal = np.array(values, dtype=float)
        self._goal = goal[:2] if goal.size >= 2 else None
        self._publish()

    def _on_timer(self) -> None:
        if self._goal is None and not self._asking and self._client.service_is_ready():
            self._asking = True
            future = self._client.call_async(GetParameters.Request(names=['goal']))
            future.add_done_callback(self._on_goal_answer)
        self._publish()

    def _on_goal_answer(self, future: Any) -> None:
        self._asking = False
        result = future.result()
        if result is not None and result.values and self._goal is None:
            self._set_goal(result.values[0].double_array_value)

    def _publish(self) -> None:
        """Plan from the latest pose to the goal and publish (empty when unreachable)."""
        if self._goal is None or self._position is None:
            return
        message = Path()
        message.header.frame_id = FRAME
        message.header.stamp = self.get_clock().now().to_msg()
        points = self._planner.plan(*self._position, self._goal)
        for x, y in [] if points is None else points:
            pose = PoseStamped()
            pose.header = message.header
            pose.pose.position.x, pose.pose.position.y = float(x), float(y)
            pose.pose.orientation.w = 1.0
            message.poses.append(pose)
        self._publisher.publish(message)


def main(args: list[str] | None = None) -> None:
    """Run the planner node until interrupted."""
    rclpy.init(args=args)
    node = PathPlannerNode()
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
