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
The latency floor of the tick benchmark: a bare rclpy relay, state in, command out.

It republishes each Odometry as a TwistStamped carrying the state's stamp and copying its
twist, with the same QoS as the steering node: what is left is rclpy and DDS themselves.
    python -m poe_steer_lab.bench.relay --ros-args -r state:=... -r command:=...
"""

from __future__ import annotations

import sys

from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from poe_steer_ros.ros.node_main import run_node
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data


class Relay(Node):
    """Answers every state with a command at once."""

    def __init__(self) -> None:
        super().__init__('relay')
        self._command = TwistStamped()
        self._publisher = self.create_publisher(TwistStamped, 'command', 10)
        self.create_subscription(Odometry, 'state', self._on_state, qos_profile_sensor_data)

    def _on_state(self, message: Odometry) -> None:
        self._command.header = message.header
        self._command.twist = message.twist.twist
        self._publisher.publish(self._command)


if __name__ == '__main__':
    sys.exit(run_node(Relay, sys.argv, logger_name='relay'))
