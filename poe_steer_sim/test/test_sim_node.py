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
The ``mujoco_sim`` node as a real process, driven over DDS from this test process.

Each spawned node runs in a private ROS domain on the loopback interface and is stopped (and
its exit code checked) at teardown. Waits use deadlines on wall time; behaviour is judged on
the simulated time stamped into the messages, never on how long anything took.
"""

from __future__ import annotations

import itertools
import math
import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any, Callable, Iterator

from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from poe_steer_sim.mujoco_sim_node import PARAMETERS, SimNodeConfig
from poe_steer_sim.world import default_world
import pytest
from rcl_interfaces.msg import Parameter as ParameterMsg, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import JointState, LaserScan
from std_msgs.msg import UInt32
from std_srvs.srv import Trigger
import transforms3d
import yaml

pytestmark = pytest.mark.ros

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[1]
REAL_TIME_FACTOR = 4.0
COMMAND_TIMEOUT_S = 0.5
DEADLINE_S = 30.0
_domains = itertools.count()


def private_domain() -> int:
    """Return a ROS domain id in 1..100 of this process, distinct per call."""
    return 1 + (os.getpid() + 17 * next(_domains) + 41) % 100


def seconds(stamp: Any) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def yaw_of(odom: Odometry) -> float:
    q = odom.pose.pose.orientation
    return transforms3d.euler.quat2euler((q.w, q.x, q.y, q.z))[2]


class SimProcess:
    """A ``mujoco_sim`` node started as ``ros2 run`` would, with its log in a file."""

    def __init__(self, domain_id: int, log_path: pathlib.Path, *ros_args: str) -> None:
        env = dict(os.environ, ROS_DOMAIN_ID=str(domain_id),
                   ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST',
                   PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT),
                                                            os.environ.get('PYTHONPATH')])))
        env.setdefault('AMENT_PREFIX_PATH', sys.prefix)
        self.log_path = log_path
        self._log = log_path.open('w')
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'poe_steer_sim.mujoco_sim_node', '--ros-args', *ros_args],
            env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Signal the node, wait for it and return its exit code (killing it if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text()


class Probe:
    """Test-side node: publishes cmd_vel, records what the sim publishes, calls its services."""

    def __init__(self, domain_id: int, stamped: bool = False) -> None:
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = Node('sim_probe', context=self.context)
        self.sim_time_node = Node('sim_time_user', context=self.context, parameter_overrides=[
            Parameter('use_sim_time', Parameter.Type.BOOL, True)])
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.executor.add_node(self.sim_time_node)
        self.odom: list[Odometry] = []
        self.clock: list[float] = []
        self.joint_states: JointState | None = None
        self.scans: list[LaserScan] = []
        self.collisions: int | None = None
        self.stamped = stamped
        self.process: SimProcess | None = None
        self.cmd_pub = self.node.create_publisher(
            TwistStamped if stamped else Twist, 'cmd_vel', 10)
        self.node.create_subscription(Odometry, 'odom', self.odom.append, 10)
        self.node.create_subscription(
            ClockMsg, '/clock', lambda msg: self.clock.append(seconds(msg.clock)), 10)
        self.node.create_subscription(JointState, 'joint_states',
                                      lambda msg: setattr(self, 'joint_states', msg), 10)
        self.node.create_subscription(LaserScan, 'scan', self.scans.append, 10)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.node.create_subscription(UInt32, '/mujoco_sim/collision_count',
                                      lambda msg: setattr(self, 'collisions', msg.data), latched)
        self.reset_client = self.node.create_client(Trigger, '/mujoco_sim/reset')
        self.param_client = self.node.create_client(SetParameters, '/mujoco_sim/set_parameters')

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.sim_time_node.destroy_node()
        rclpy.shutdown(context=self.context)

    def spin_until(self, condition: Callable[[], bool], what: str,
                   on_spin: Callable[[], None] | None = None) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f'timed out waiting for {what}')
            if on_spin is not None:
                on_spin()
            self.executor.spin_once(timeout_sec=0.01)

    def sim_now(self) -> float:
        return self.odom[-1].header.stamp.sec + self.odom[-1].header.stamp.nanosec * 1e-9

    def publish(self, v: float, w: float) -> None:
        twist = Twist()
        twist.linear.x, twist.angular.z = v, w
        if self.stamped:
            msg = TwistStamped(twist=twist)
            msg.header.frame_id = 'base_link'
            self.cmd_pub.publish(msg)
        else:
            self.cmd_pub.publish(twist)

    def drive(self, v: float, w: float, sim_seconds: float,
              until: Callable[[], bool] = lambda: False) -> float:
        """Publish a command until ``sim_seconds`` of sim time passed (or ``until``)."""
        self.spin_until(lambda: bool(self.odom), 'odom')
        end = self.sim_now() + sim_seconds
        last_publish = [0.0]

        def publish_every_10_ms() -> None:
            if time.monotonic() - last_publish[0] > 0.01:
                self.publish(v, w)
                last_publish[0] = time.monotonic()

        self.spin_until(lambda: self.sim_now() >= end or until(), f'cmd ({v}, {w})',
                        publish_every_10_ms)
        return self.sim_now()

    def call(self, client: Any, request: Any) -> Any:
        self.spin_until(lambda: client.service_is_ready(), f'service {client.srv_name}')
        future = client.call_async(request)
        self.spin_until(future.done, f'response of {client.srv_name}')
        return future.result()

    def reset(self) -> None:
        assert self.call(self.reset_client, Trigger.Request()).success
        self.odom.clear()
        self.spin_until(lambda: len(self.odom) >= 2, 'odom after reset')


@pytest.fixture(scope='module')
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    domain_id = private_domain()
    process = SimProcess(domain_id, tmp_path_factory.mktemp('sim') / 'mujoco_sim.log',
                         '--params-file', str(PACKAGE_ROOT / 'config' / 'sim_mujoco.yaml'),
                         '-p', f'real_time_factor:={REAL_TIME_FACTOR}',
                         '-p', f'command_timeout_s:={COMMAND_TIMEOUT_S}')
    probe = Probe(domain_id)
    probe.process = process
    try:
        probe.spin_until(lambda: len(probe.odom) >= 2 or process.process.poll() is not None,
                         'the first odom')
        assert process.process.poll() is None, f'mujoco_sim died:\n{process.log()}'
        yield probe
    finally:
        probe.close()
        exit_code = process.stop(signal.SIGINT)
    assert exit_code == 0, f'mujoco_sim exited {exit_code} on SIGINT:\n{process.log()}'


@pytest.fixture
def probe(sim: Probe) -> Probe:
    sim.reset()
    return sim


def test_clock_advances_and_odom_follows_it(probe: Probe) -> None:
    probe.clock.clear()
    probe.spin_until(lambda: len(probe.clock) >= 20, '/clock')
    assert all(later >= earlier for earlier, later in zip(probe.clock, probe.clock[1:]))
    assert probe.clock[-1] > probe.clock[0]
    odom = probe.odom[-1]
    stamp = seconds(odom.header.stamp)
    probe.spin_until(lambda: any(abs(time_s - stamp) < 1e-9 for time_s in probe.clock),
                     'the odom stamp on /clock')
    assert (odom.header.frame_id, odom.child_frame_id) == ('odom', 'base_link')
    assert all(variance > 0 for variance in odom.pose.covariance[::7])


def test_scan_sees_the_default_worlds_cylinder_ahead(probe: Probe) -> None:
    probe.scans.clear()
    probe.spin_until(lambda: len(probe.scans) >= 3, 'scan')
    scan = probe.scans[-1]
    assert scan.header.frame_id == 'base_link' and len(scan.ranges) == 72
    stamps = [seconds(message.header.stamp) for message in probe.scans]
    assert stamps[-1] - stamps[-2] == pytest.approx(0.05, abs=0.011)  # 20 Hz of sim time
    ahead = round((0.0 - scan.angle_min) / scan.angle_increment)
    x_m = probe.odom[-1].pose.pose.position.x
    # The cylinder at (1.2, 0.15), radius 0.25: the ray straight ahead from (x, 0) meets it at
    # x = 1.2 - sqrt(0.25**2 - 0.15**2) = 1.0.
    assert scan.ranges[ahead] == pytest.approx(1.0 - x_m, abs=0.02)


def test_a_node_on_sim_time_sees_the_simulated_clock(probe: Probe) -> None:
    ticks = []
    probe.sim_time_node.create_timer(0.1, lambda: ticks.append(
        probe.sim_time_node.get_clock().now().nanoseconds * 1e-9))
    probe.spin_until(lambda: len(ticks) >= 3, 'timer ticks on sim time')
    assert probe.sim_time_node.get_clock().ros_time_is_active
    latest_clock = probe.clock[-1]
    assert ticks[-1] == pytest.approx(latest_clock, abs=1.0)
    assert latest_clock < 1e6 < time.time(), 'sim time starts at 0, far from the wall clock'


def test_forward_command_moves_the_base_forward(probe: Probe) -> None:
    probe.drive(0.5, 0.0, 1.0)
    odom = probe.odom[-1]
    assert 0.3 < odom.pose.pose.position.x < 0.6
    assert abs(odom.pose.pose.position.y) < 0.02 and abs(yaw_of(odom)) < 0.02
    assert odom.twist.twist.linear.x == pytest.approx(0.5, abs=0.05)
    probe.spin_until(lambda: probe.joint_states is not None, 'joint_states')
    assert list(probe.joint_states.name) == ['left_wheel_joint', 'right_wheel_joint']
    assert list(probe.joint_states.velocity) == pytest.approx([10.0, 10.0], abs=1.0)


def test_positive_yaw_rate_turns_left(probe: Probe) -> None:
    probe.drive(0.0, 1.0, 1.0)
    odom = probe.odom[-1]
    assert 0.6 < yaw_of(odom) < 1.2
    assert odom.twist.twist.angular.z == pytest.approx(1.0, abs=0.1)
    assert math.hypot(odom.pose.pose.position.x, odom.pose.pose.position.y) < 0.05


def test_base_stops_after_the_command_timeout(probe: Probe) -> None:
    last_command_s = probe.drive(0.5, 0.0, 0.6)
    probe.spin_until(lambda: probe.sim_now() > last_command_s + COMMAND_TIMEOUT_S + 0.5,
                     'time past the command timeout')
    after = [(seconds(odom.header.stamp), odom.pose.pose.position.x, odom.twist.twist.linear.x)
             for odom in probe.odom if seconds(odom.header.stamp) > last_command_s]
    holding_until_s = last_command_s + 0.8 * COMMAND_TIMEOUT_S
    stopped_from_s = last_command_s + COMMAND_TIMEOUT_S + 0.3
    still_driving = [v for stamp, _, v in after if stamp < holding_until_s]
    stopped = [(x, v) for stamp, x, v in after if stamp > stopped_from_s]
    assert still_driving and min(still_driving) > 0.4, 'the last command holds until the timeout'
    assert stopped and all(abs(v) < 0.01 for _, v in stopped)
    assert max(x for x, _ in stopped) - min(x for x, _ in stopped) < 0.005


def test_reset_returns_to_the_start_pose_without_rewinding_time(probe: Probe) -> None:
    probe.drive(0.5, 0.5, 0.5)
    before_reset = probe.clock[-1]
    probe.reset()
    odom = probe.odom[-1]
    start = default_world().start_pose
    assert (odom.pose.pose.position.x, odom.pose.pose.position.y) == pytest.approx(
        (start.x_m, start.y_m), abs=0.01)
    assert seconds(odom.header.stamp) >= before_reset


def test_driving_into_an_obstacle_counts_a_collision(probe: Probe) -> None:
    probe.spin_until(lambda: probe.collisions is not None, 'collision count')
    before = probe.collisions
    probe.drive(1.0, 0.0, 4.0, until=lambda: probe.collisions > before)
    assert probe.collisions > before
    cylinder = default_world().obstacles[0]
    assert probe.odom[-1].pose.pose.position.x < cylinder.x_m - cylinder.radius_m
    probe.spin_until(lambda: 'collision #' in probe.process.log(), 'the collision log line')


def test_runtime_parameters_are_checked_against_their_descriptors(probe: Probe) -> None:
    def set_parameter(name: str, value: float) -> bool:
        request = SetParameters.Request(parameters=[ParameterMsg(name=name, value=ParameterValue(
            type=ParameterType.PARAMETER_DOUBLE, double_value=value))])
        return probe.call(probe.param_client, request).results[0].successful

    assert set_parameter('real_time_factor', REAL_TIME_FACTOR)
    assert set_parameter('command_timeout_s', COMMAND_TIMEOUT_S)
    assert not set_parameter('real_time_factor', 0.0), 'out of range'
    assert not set_parameter('physics_dt_s', 0.001), 'read-only'
    probe.clock.clear()
    probe.spin_until(lambda: len(probe.clock) >= 5, '/clock after parameter sets')


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_twist_stamped_mode_and_clean_exit_on_signal(tmp_path: pathlib.Path, signum: int) -> None:
    domain_id = private_domain()
    process = SimProcess(domain_id, tmp_path / 'mujoco_sim.log', '-p', 'cmd_vel_stamped:=true',
                         '-p', f'real_time_factor:={REAL_TIME_FACTOR}')
    probe = Probe(domain_id, stamped=True)
    try:
        probe.drive(0.5, 0.0, 1.0)
        assert probe.odom[-1].pose.pose.position.x > 0.3
    finally:
        probe.close()
        exit_code = process.stop(signum)
    assert exit_code == 0, f'exit {exit_code} on {signal.Signals(signum).name}:\n{process.log()}'


def test_params_file_declares_exactly_the_nodes_parameters() -> None:
    content = yaml.safe_load((PACKAGE_ROOT / 'config' / 'sim_mujoco.yaml').read_text())
    values = content['/**']['ros__parameters']
    assert set(values) == {spec.name for spec in PARAMETERS}
    defaults = SimNodeConfig()
    for spec in PARAMETERS:
        assert type(values[spec.name]) is type(getattr(defaults, spec.name)), spec.name
        if spec.low is not None:
            assert spec.low <= values[spec.name] <= spec.high, spec.name
