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
ROS 2 node ``mujoco_sim``: the MuJoCo differential-drive base behind the topics of a real one.

It subscribes ``cmd_vel`` (Twist, or TwistStamped with ``cmd_vel_stamped``), publishes
``odom`` (nav_msgs/Odometry, ``odom`` -> ``base_link``, ground-truth pose in the world frame,
twist in the body frame), the wheels' ``joint_states``, the lidar's ``scan``
(sensor_msgs/LaserScan in ``base_link``, MuJoCo ray casts, ``diff_drive.LIDAR``: 72 rays over
the full turn at 20 Hz of simulated time) and ``/clock``, so that every other node
runs with ``use_sim_time:=true``. ``~/collision_count`` (std_msgs/UInt32, latched) counts
collisions with obstacles and walls; ``~/reset`` (std_srvs/Trigger) puts the base back at the
world's start pose (simulated time keeps running forward).

The node is the clock source, so it runs on the wall clock: a steady-clock timer steps the
physics until simulated time has advanced ``real_time_factor`` times as much as wall time since
the last anchor, publishing odom, joint states and ``/clock`` every ``1 / odom_rate_hz``
simulated seconds. Like a real base controller it stops the wheels when no command arrived for
``command_timeout_s`` (simulated seconds, so the behaviour does not depend on the speed-up).

Run: ``ros2 run poe_steer_ros mujoco_sim --ros-args --params-file config/sim_mujoco.yaml`` or
``python -m poe_steer_sim.mujoco_sim_node --ros-args -p real_time_factor:=5.0``.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import pathlib
from typing import Any

from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
import numpy as np
from poe_steer_ros.core.interfaces import BASE_X, BASE_Y, BASE_YAW, joint_position_key, \
    joint_velocity_key
from poe_steer_ros.ros.node_main import run_node
from poe_steer_ros.ros.parameters import declare, ParameterSpec
from poe_steer_sim.diff_drive import DiffDriveSim, PHYSICS_DT_S, WHEEL_JOINT_NAMES
from poe_steer_sim.world import DEFAULT_WORLD_FILE, load_world, package_config_path
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from rclpy.time import Time
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import JointState, LaserScan
from std_msgs.msg import UInt32
from std_srvs.srv import Trigger
import transforms3d

ODOM_FRAME = 'odom'
BASE_FRAME = 'base_link'
GROUND_TRUTH_COVARIANCE = (np.eye(6) * 1e-6).ravel().tolist()
"""Odom pose and twist covariance: the simulator's ground truth (std ~1 mm, 1 mrad)."""
MAX_BACKLOG_WALL_S = 0.25
"""When stepping falls this far (wall time) behind, the backlog is dropped instead of rushed."""
MAX_CATCH_UP_TICKS = 4
"""One tick simulates at most this many nominal ticks' worth, so callbacks stay short."""
STOP_COMMAND = np.zeros(2)


@dataclasses.dataclass(frozen=True)
class SimNodeConfig:
    """The node's parameters; field names are the parameter names, defaults the only defaults."""

    world_file: str = ''
    cmd_vel_stamped: bool = False
    real_time_factor: float = 1.0
    command_timeout_s: float = 0.5
    odom_rate_hz: float = 50.0
    physics_dt_s: float = PHYSICS_DT_S


_DEFAULTS = SimNodeConfig()


def _spec(name: str, description: str, read_only: bool = True,
          float_range: tuple[float, float] | None = None) -> ParameterSpec:
    """Describe one parameter; its default is SimNodeConfig's."""
    low, high = float_range if float_range is not None else (None, None)
    return ParameterSpec(name, getattr(_DEFAULTS, name), description, read_only=read_only,
                         low=low, high=high)


PARAMETERS = (
    _spec('world_file', 'World YAML (obstacles, start pose, goal region); empty: the '
          f'package default config/{DEFAULT_WORLD_FILE}'),
    _spec('cmd_vel_stamped', 'cmd_vel type: true geometry_msgs/TwistStamped, false Twist'),
    _spec('real_time_factor', 'Simulated seconds per wall second (5.0: five times faster '
          'than real time)', read_only=False, float_range=(0.01, 100.0)),
    _spec('command_timeout_s', 'Simulated seconds without cmd_vel after which the base '
          'is stopped (s)', read_only=False, float_range=(0.01, 10.0)),
    _spec('odom_rate_hz', 'Rate of odom, joint_states and /clock in simulated time (Hz)',
          float_range=(1.0, 1000.0)),
    _spec('physics_dt_s', 'MuJoCo timestep (s)', float_range=(0.0005, 0.02)),
)


class Direction(str, enum.Enum):
    """Whether the node publishes or subscribes a topic."""

    PUBLISH = 'publish'
    SUBSCRIBE = 'subscribe'


@dataclasses.dataclass(frozen=True)
class TopicSpec:
    """A topic the node offers, as a Gazebo bridge has to mirror it."""

    name: str
    msg_type: Any
    direction: Direction

    @property
    def type_name(self) -> str:
        """Return the ROS type name, e.g. ``nav_msgs/msg/Odometry``."""
        return f"{self.msg_type.__module__.split('.')[0]}/msg/{self.msg_type.__name__}"


def topic_table(cmd_vel_stamped: bool) -> dict[str, TopicSpec]:
    """Return the simulator-facing topics, keyed by their role."""
    return {
        'clock': TopicSpec('/clock', ClockMsg, Direction.PUBLISH),
        'cmd_vel': TopicSpec('cmd_vel', TwistStamped if cmd_vel_stamped else Twist,
                             Direction.SUBSCRIBE),
        'odom': TopicSpec('odom', Odometry, Direction.PUBLISH),
        'joint_states': TopicSpec('joint_states', JointState, Direction.PUBLISH),
        'scan': TopicSpec('scan', LaserScan, Direction.PUBLISH),
    }


TOPICS = topic_table(SimNodeConfig.cmd_vel_stamped)
"""The topics with the default parameters: what ``config/gz_bridge.yaml`` must mirror."""


def _stamp(time_s: float) -> Any:
    return Time(nanoseconds=round(time_s * 1e9)).to_msg()


class MujocoSimNode(Node):
    """Steps a ``DiffDriveSim`` against the wall clock and speaks ROS around it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('mujoco_sim', **kwargs)
        self._config = SimNodeConfig(**declare(self, PARAMETERS))
        world_path = (pathlib.Path(self._config.world_file) if self._config.world_file
                      else package_config_path(DEFAULT_WORLD_FILE))
        self._world = load_world(world_path)
        self._sim = DiffDriveSim(self._world, self._config.physics_dt_s)
        self._publish_period_s = 1.0 / self._config.odom_rate_hz
        self._next_publish_s = self._sim.time_s + self._publish_period_s  # t=0 published below
        self._command = STOP_COMMAND
        self._command_time_s = -math.inf
        self._timed_out = True
        self._collisions_reported = 0

        topics = topic_table(self._config.cmd_vel_stamped)
        self._clock_pub = self.create_publisher(ClockMsg, topics['clock'].name, 10)
        self._odom_pub = self.create_publisher(Odometry, topics['odom'].name, 10)
        self._joint_pub = self.create_publisher(JointState, topics['joint_states'].name, 10)
        self._scan_pub = self.create_publisher(LaserScan, topics['scan'].name, 10)
        self._scan_period_s = 1.0 / self._sim.lidar.rate_hz
        self._next_scan_s = self._sim.time_s
        self._scan = self._empty_scan()
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._collision_pub = self.create_publisher(UInt32, '~/collision_count', latched)
        self.create_subscription(topics['cmd_vel'].msg_type, topics['cmd_vel'].name,
                                 self._on_cmd_vel, 10)
        self.create_service(Trigger, '~/reset', self._on_reset)
        self.add_post_set_parameters_callback(self._on_parameters_set)

        # The node is the clock source: it paces itself on the steady wall clock, never on ROS
        # time (which may be its own /clock when use_sim_time is set).
        self._wall_clock = Clock(clock_type=ClockType.STEADY_TIME)
        self._anchor()
        self._timer = self.create_timer(self._tick_period_s(), self._on_tick,
                                        clock=self._wall_clock)
        self._collision_pub.publish(UInt32(data=0))
        self._publish_state()
        self.get_logger().info(
            f'world {world_path}, real_time_factor {self._config.real_time_factor}, '
            f'physics_dt_s {self._config.physics_dt_s}, cmd_vel {topics["cmd_vel"].type_name}')

    def _wall_s(self) -> float:
        return self._wall_clock.now().nanoseconds * 1e-9

    def _anchor(self) -> None:
        """Restart pacing from now: sim time advances real_time_factor x wall time from here."""
        self._wall_anchor_s = self._wall_s()
        self._sim_anchor_s = self._sim.time_s

    def _tick_period_s(self) -> float:
        """Wall period of the stepping timer: one publish period of sim time, 2-20 ms."""
        period = self._publish_period_s / self._config.real_time_factor
        return min(max(period, 0.002), 0.02)

    def _on_parameters_set(self, parameters: list[Parameter]) -> None:
        self._config = dataclasses.replace(
            self._config, **{parameter.name: parameter.value for parameter in parameters
                             if parameter.name in ('real_time_factor', 'command_timeout_s')})
        self._anchor()
        self._timer.timer_period_ns = round(self._tick_period_s() * 1e9)

    def _on_cmd_vel(self, msg: Twist | TwistStamped) -> None:
        twist = msg.twist if isinstance(msg, TwistStamped) else msg
        command = np.array([twist.linear.x, twist.angular.z])
        if not np.all(np.isfinite(command)):
            self.get_logger().warning(f'non-finite cmd_vel {command.tolist()}: stopping',
                                      throttle_duration_sec=1.0)
            command = STOP_COMMAND
        self._command = command
        self._command_time_s = self._sim.time_s

    def _on_reset(self, request: Trigger.Request,
                  response: Trigger.Response) -> Trigger.Response:
        pose = self._world.start_pose
        self._sim.reset(pose)
        self._command = STOP_COMMAND
        self._command_time_s = -math.inf
        self._timed_out = True
        self._next_scan_s = self._sim.time_s  # the scan of the new pose goes out at once
        self._publish_state()
        response.success = True
        response.message = f'reset to x={pose.x_m} m, y={pose.y_m} m, yaw={pose.yaw_rad} rad'
        self.get_logger().info(response.message)
        return response

    def _on_tick(self) -> None:
        behind_s = (self._wall_s() - self._wall_anchor_s) * self._config.real_time_factor \
            - (self._sim.time_s - self._sim_anchor_s)
        if behind_s > MAX_BACKLOG_WALL_S * self._config.real_time_factor:
            self.get_logger().warning(
                f'cannot keep real_time_factor {self._config.real_time_factor}: running slower',
                throttle_duration_sec=5.0)
            self._anchor()
            return
        dt_s = self._sim.physics_dt_s
        nominal_s = self._tick_period_s() * self._config.real_time_factor
        target_s = self._sim.time_s + min(behind_s, MAX_CATCH_UP_TICKS * nominal_s)
        while (remaining := round((target_s - self._sim.time_s) / dt_s)) >= 1:
            to_publish = max(1, round((self._next_publish_s - self._sim.time_s) / dt_s))
            self._sim.set_command(self._fresh_command())
            self._sim.advance(min(remaining, to_publish))
            if self._sim.time_s >= self._next_publish_s - dt_s / 2:
                self._next_publish_s += self._publish_period_s
                self._publish_state()
            self._report_collisions()

    def _fresh_command(self) -> np.ndarray:
        timed_out = self._sim.time_s - self._command_time_s > self._config.command_timeout_s
        if timed_out and not self._timed_out:
            self.get_logger().info(
                f'no cmd_vel for {self._config.command_timeout_s} s: stopping the base')
        self._timed_out = timed_out
        return STOP_COMMAND if timed_out else self._command

    def _report_collisions(self) -> None:
        count = self._sim.collision_count
        if count > self._collisions_reported:
            x_m, y_m = self._sim.position()
            self.get_logger().warning(f'collision #{count} at x={x_m:.2f} m, y={y_m:.2f} m')
            self._collisions_reported = count
            self._collision_pub.publish(UInt32(data=count))

    def _empty_scan(self) -> LaserScan:
        """Return a scan message with the lidar's fixed geometry filled in."""
        lidar, geometry = self._sim.lidar, self._sim.lidar.geometry()
        scan = LaserScan()
        scan.header.frame_id = BASE_FRAME
        scan.angle_min = geometry.angle_min
        scan.angle_increment = geometry.increment
        scan.angle_max = geometry.angle_min + geometry.increment * (geometry.count - 1)
        scan.scan_time = self._scan_period_s
        scan.range_min = lidar.range_min_m
        scan.range_max = lidar.range_max_m
        return scan

    def _publish_scan(self, stamp: Any) -> None:
        """Cast the lidar's rays and publish them when a scan is due (simulated time)."""
        if self._sim.time_s < self._next_scan_s - self._sim.physics_dt_s / 2:
            return
        self._next_scan_s = max(self._next_scan_s + self._scan_period_s, self._sim.time_s)
        self._scan.header.stamp = stamp
        self._scan.ranges = self._sim.scan_ranges().tolist()
        self._scan_pub.publish(self._scan)

    def _publish_state(self) -> None:
        stamp = _stamp(self._sim.time_s)
        self._clock_pub.publish(ClockMsg(clock=stamp))
        state = self._sim.state()
        v, lateral, w = self._sim.body_twist()
        odom = Odometry()
        odom.header.stamp = stamp
        odom.header.frame_id = ODOM_FRAME
        odom.child_frame_id = BASE_FRAME
        odom.pose.pose.position.x = state[BASE_X]
        odom.pose.pose.position.y = state[BASE_Y]
        qw, qx, qy, qz = transforms3d.euler.euler2quat(0.0, 0.0, state[BASE_YAW])
        orientation = odom.pose.pose.orientation
        orientation.w, orientation.x, orientation.y, orientation.z = qw, qx, qy, qz
        odom.pose.covariance = GROUND_TRUTH_COVARIANCE
        odom.twist.twist.linear.x = v
        odom.twist.twist.linear.y = lateral
        odom.twist.twist.angular.z = w
        odom.twist.covariance = GROUND_TRUTH_COVARIANCE
        self._odom_pub.publish(odom)
        joints = JointState()
        joints.header.stamp = stamp
        joints.name = list(WHEEL_JOINT_NAMES)
        joints.position = [state[joint_position_key(name)] for name in WHEEL_JOINT_NAMES]
        joints.velocity = [state[joint_velocity_key(name)] for name in WHEEL_JOINT_NAMES]
        self._joint_pub.publish(joints)
        self._publish_scan(stamp)


def main(args: list[str] | None = None) -> None:
    """Run the node until SIGINT/SIGTERM, then exit 0 (``ros2 run poe_steer_ros mujoco_sim``)."""
    raise SystemExit(run_node(MujocoSimNode, args, logger_name='mujoco_sim'))


if __name__ == '__main__':
    main()
