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

"""The steering node as a real process over DDS, started the way ``ros2 launch`` starts it."""

from __future__ import annotations

import math
from pathlib import Path
import signal
from typing import Iterator

from actor_fixtures import export_linear_base_actor
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
import numpy as np
from poe_steer_lab.ros.client import RosClient
from poe_steer_lab.ros.processes import launch_table, NodeProcess, ros_arguments
from poe_steer_msgs.msg import GoalPrior, SteeringStatus
from poe_steer_ros.core.actor import load_actor
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.steerer import Steerer
from poe_steer_ros.ros import adapters
from poe_steer_ros.ros.parameters import steering_config
import pytest
from rclpy.qos import qos_profile_sensor_data
import torch
import yaml

pytestmark = pytest.mark.ros

RATE_HZ = 50.0
TIMEOUT_S = 0.4


@pytest.fixture(scope='module')
def actor_manifest(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return export_linear_base_actor(tmp_path_factory.mktemp('actor'))


PARAMETERS = {
    'control.rate_hz': RATE_HZ,
    'control.state_timeout_s': TIMEOUT_S,
    'control.safe_command': 'zero',
    'goal': [2.0, 1.0],
    'steering.rule': 'poe',
    'steering.alpha': 0.3,
    'steering.alpha_ramp_s': 0.0,
}


def write_params(path: Path, manifest: Path, **extra) -> Path:
    values = {**PARAMETERS, 'actor.manifest': str(manifest), **extra}
    path.write_text(yaml.safe_dump({'/**': {'ros__parameters': values}}))
    return path


def odometry(x: float, y: float, yaw: float, v: float = 0.1, w: float = 0.0) -> Odometry:
    message = Odometry()
    message.header.frame_id = 'odom'
    message.pose.pose.position.x, message.pose.pose.position.y = x, y
    quaternion = np.array([0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0)])
    (message.pose.pose.orientation.x, message.pose.pose.orientation.y,
     message.pose.pose.orientation.z, message.pose.pose.orientation.w) = quaternion
    message.twist.twist.linear.x, message.twist.twist.angular.z = v, w
    return message


class Driver:
    """Test-side DDS peer: publishes odometry, records commands and status."""

    def __init__(self, client: RosClient) -> None:
        self.client = client
        self.state = odometry(0.5, -0.2, 0.3)
        self._publisher = client.node.create_publisher(Odometry, 'odom', qos_profile_sensor_data)
        self.goal_publisher = client.node.create_publisher(PoseStamped, 'goal_pose', 1)
        self.prior_publisher = client.node.create_publisher(GoalPrior, 'goal_prior', 1)
        self.publishing = True
        client.node.create_timer(0.01, self._publish)
        self.commands = client.record(Twist, 'cmd_vel')
        self.status = client.record(SteeringStatus, '/poe_steer/status')

    def _publish(self) -> None:
        if self.publishing:
            self._publisher.publish(self.state)

    def next_status(self, count: int = 1, timeout_s: float = 10.0) -> SteeringStatus:
        """Return the status ``count`` ticks after now."""
        start = len(self.status.messages)
        assert self.client.spin_until(lambda: len(self.status.messages) >= start + count,
                                      timeout_s), 'the node published no status'
        return self.status.messages[-1]

    def wait_status(self, predicate, timeout_s: float = 10.0) -> SteeringStatus:
        start = len(self.status.messages)

        def seen() -> bool:
            return any(predicate(message) for message in self.status.messages[start:])
        assert self.client.spin_until(seen, timeout_s), 'no status satisfied the condition'
        return next(m for m in self.status.messages[start:] if predicate(m))


@pytest.fixture(scope='module')
def node(actor_manifest, tmp_path_factory) -> Iterator[NodeProcess]:
    folder = tmp_path_factory.mktemp('node')
    table = launch_table('steer.launch.py')
    process = NodeProcess(table.EXECUTABLE, ros_arguments(
        params_file=write_params(folder / 'params.yaml', actor_manifest),
        remaps=dict(table.REMAPPINGS)), folder / 'node.log')
    with process:
        yield process
    print(process.output())


@pytest.fixture(scope='module')
def driver(node) -> Iterator[Driver]:
    with RosClient('steer_test_driver') as client:
        driver = Driver(client)
        assert client.spin_until(lambda: len(driver.commands.messages) > 2, 30.0), \
            f'no command on cmd_vel; node output:\n{node.output()}'
        yield driver


def core_steerer(manifest: Path, values: dict) -> Steerer:
    """Build the pipeline the node runs, in this process, from the same settings."""
    actor = load_actor(manifest, device='cpu')
    envelope = SafetyEnvelope(actor.action_low, actor.action_high, np.full(2, np.inf))
    return Steerer(actor, actor.observation_layout.build, envelope,
                   steering_config(values))


def run_until_exit(folder: Path, manifest: Path, **extra) -> tuple[int, str]:
    """Start a node that must refuse its settings; return its exit status and output."""
    process = NodeProcess('steer_node', ros_arguments(
        params_file=write_params(folder / 'params.yaml', manifest, **extra)),
        folder / 'node.log')
    process.start()
    try:
        status = process.wait(timeout_s=60.0)
    finally:
        process.stop()
    return status, process.output()


def set_ok(driver: Driver, **values) -> None:
    results = driver.client.set_parameters('/poe_steer', values)
    assert all(result.successful for result in results), [r.reason for r in results]


def test_launch_arguments_are_honoured(node, driver) -> None:
    """--params-file values are in force and the remaps moved state/command to odom/cmd_vel."""
    values = driver.client.get_parameters('/poe_steer', ['steering.alpha', 'control.rate_hz'])
    assert values == {'steering.alpha': 0.3, 'control.rate_hz': RATE_HZ}
    status = driver.wait_status(lambda message: not message.stale_state)
    assert status.header.frame_id == 'odom'
    assert len(driver.commands.messages) > 0


def test_command_equals_the_core_steerer(actor_manifest, driver) -> None:
    set_ok(driver, **{'goal': [2.0, 1.0], 'steering.rule': 'poe', 'steering.alpha': 0.3})
    status = driver.wait_status(lambda message: list(message.goal) == [2.0, 1.0]
                                and not message.stale_state)
    expected, telemetry = core_steerer(actor_manifest, PARAMETERS).step(
        adapters.odometry_to_state(driver.state), np.array([2.0, 1.0]), 0.0)
    assert list(status.command) == pytest.approx(expected.tolist(), abs=1e-9)
    assert list(status.effective_prior_weight) == pytest.approx(
        telemetry.prior_weight.tolist(), abs=1e-9)
    assert status.alpha == pytest.approx(0.3)
    twist = driver.commands.latest
    assert [twist.linear.x, twist.angular.z] == pytest.approx(expected.tolist(), abs=1e-9)


def test_goal_change_takes_effect_at_the_next_tick(actor_manifest, driver) -> None:
    set_ok(driver, goal=[2.0, 1.0])
    before = driver.wait_status(lambda message: list(message.goal) == [2.0, 1.0])
    set_ok(driver, goal=[-1.0, -2.0])
    after = driver.next_status(2)
    assert list(after.goal) == [-1.0, -2.0]
    expected, _ = core_steerer(actor_manifest, {**PARAMETERS, 'goal': [-1.0, -2.0]}).step(
        adapters.odometry_to_state(driver.state), np.array([-1.0, -2.0]), 0.0)
    assert list(after.command) == pytest.approx(expected.tolist(), abs=1e-9)
    assert list(after.command) != pytest.approx(list(before.command), abs=1e-6)


def test_goal_pose_from_rviz_retargets(driver) -> None:
    message = PoseStamped()
    message.header.frame_id = 'odom'
    message.pose.position.x, message.pose.position.y = 3.0, -1.0
    message.pose.orientation.w = 1.0
    driver.goal_publisher.publish(message)
    driver.wait_status(lambda status: list(status.goal) == [3.0, -1.0])
    assert driver.client.get_parameters('/poe_steer', ['goal']) == {'goal': [3.0, -1.0]}
    message.header.frame_id = 'map'
    message.pose.position.x = 9.0
    driver.goal_publisher.publish(message)
    driver.next_status(5)
    assert driver.client.get_parameters('/poe_steer', ['goal']) == {'goal': [3.0, -1.0]}


@pytest.mark.parametrize('values, reason', [
    ({'steering.alpha': 1.5}, 'range'),
    ({'steering.alpha': 'high'}, 'expects a number'),
    ({'steering.rule': 'fastest'}, 'fastest'),
    ({'goal': [1.0, 2.0, 3.0, 4.0]}, 'goal'),
    ({'goal': [1.0, float('nan')]}, 'finite'),
    ({'control.rate_hz': 200.0}, 'read-only'),
    ({'limits.alpha_max': 0.9}, 'read-only'),
    ({'prior.std_linear': -1.0}, 'range'),
])
def test_invalid_sets_are_rejected_and_the_old_value_stays(driver, values: dict,
                                                           reason: str) -> None:
    names = list(values)
    before = driver.client.get_parameters('/poe_steer', names)
    results = driver.client.set_parameters('/poe_steer', values)
    assert not results[0].successful
    assert reason in results[0].reason.lower() or reason in results[0].reason
    assert driver.client.get_parameters('/poe_steer', names) == before


@pytest.mark.parametrize('bad_state', [
    odometry(float('nan'), 0.0, 0.0),
    odometry(0.0, float('inf'), 0.0),
    odometry(0.0, 0.0, 0.0, v=float('-inf')),
])
def test_non_finite_state_gives_no_nan_command_and_a_flag(driver, bad_state) -> None:
    good_state = driver.state
    driver.state = bad_state
    try:
        status = driver.wait_status(lambda message: message.state_rejected)
        assert 'state value' in status.detail
        driver.next_status(3)
        for twist in driver.commands.messages[-5:]:
            assert math.isfinite(twist.linear.x) and math.isfinite(twist.angular.z)
    finally:
        driver.state = good_state
    driver.wait_status(lambda message: not message.state_rejected)


def test_stale_state_sends_the_safe_command_and_steering_resumes(driver) -> None:
    driver.wait_status(lambda message: not message.stale_state and any(message.command))
    driver.publishing = False
    try:
        first_stale = driver.wait_status(lambda message: message.stale_state)
        # Within two ticks of the timeout: the age when first flagged is at most timeout + 2 ticks.
        assert first_stale.state_age_s <= TIMEOUT_S + 2.0 / RATE_HZ + 0.05
        assert list(first_stale.command) == [0.0, 0.0]
        assert driver.commands.latest.linear.x == 0.0
    finally:
        driver.publishing = True
    resumed = driver.wait_status(lambda message: not message.stale_state)
    assert any(resumed.command)


def test_goal_prior_steers_until_it_expires(driver) -> None:
    set_ok(driver, **{'prior.type': 'external', 'steering.alpha': 0.9})
    try:
        quiet = driver.wait_status(lambda message: message.prior_type == 'external'
                                   and not message.prior_active and not message.stale_state)
        now = driver.client.node.get_clock().now().nanoseconds * 1e-9
        prior = GoalPrior(space=GoalPrior.SPACE_COMMAND, mean=[-0.4, 1.5], std=[0.01, 0.01],
                          weight=float('nan'), expiry=adapters.seconds_to_time(now + 1.0))
        driver.prior_publisher.publish(prior)
        active = driver.wait_status(lambda message: message.prior_active)
        assert active.command[1] > quiet.command[1] + 0.3
        assert list(active.prior_mean) != []
        expired = driver.wait_status(lambda message: message.header.stamp.sec + 1e-9 *
                                     message.header.stamp.nanosec > now + 1.05)
        assert not expired.prior_active
        assert list(expired.command) == pytest.approx(list(quiet.command), abs=1e-6)
        stale_prior = GoalPrior(space=GoalPrior.SPACE_COMMAND, mean=[0.0, 0.0], std=[0.1, 0.1],
                                weight=float('nan'), expiry=adapters.seconds_to_time(now - 5.0))
        driver.prior_publisher.publish(stale_prior)
        assert not driver.next_status(5).prior_active
    finally:
        set_ok(driver, **{'prior.type': 'pose', 'steering.alpha': 0.3})


def test_sigint_publishes_the_safe_command_and_exits_zero(actor_manifest, tmp_path) -> None:
    process = NodeProcess('steer_node', ros_arguments(
        params_file=write_params(tmp_path / 'params.yaml', actor_manifest),
        remaps={'state': 'sigint/odom', 'command': 'sigint/cmd_vel'},
        parameters={'steering.rule': 'frozen'}), tmp_path / 'node.log')
    with RosClient('sigint_driver') as client, process:
        publisher = client.node.create_publisher(Odometry, 'sigint/odom', qos_profile_sensor_data)
        client.node.create_timer(0.01, lambda: publisher.publish(odometry(0.0, 0.0, 0.0)))
        commands = client.record(Twist, 'sigint/cmd_vel')
        assert client.spin_until(lambda: any(c.linear.x != 0.0 for c in commands.messages), 30), \
            process.output()
        process.send_signal(signal.SIGINT)
        client.spin_until(lambda: process.returncode is not None, 15.0)
        client.spin_for(0.3)
        assert process.returncode == 0, process.output()
        assert (commands.latest.linear.x, commands.latest.angular.z) == (0.0, 0.0)
        assert 'zero command sent' in process.output()


def test_tampered_actor_refuses_to_start(actor_manifest, tmp_path) -> None:
    folder = tmp_path / 'tampered'
    folder.mkdir()
    for path in actor_manifest.parent.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    manifest = folder / actor_manifest.name
    model = folder / yaml.safe_load(manifest.read_text())['file']
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    status, output = run_until_exit(tmp_path, manifest)
    assert status != 0
    assert 'SHA-256' in output and 'refusing' in output


def test_a_format_the_manifest_does_not_certify_refuses_to_start(actor_manifest, tmp_path) -> None:
    status, output = run_until_exit(tmp_path, actor_manifest, **{'actor.format': 'onnx'})
    assert status != 0
    assert "format onnx requested, but the manifest certifies ['torchscript'] only" in output


def test_envelope_parameters_cannot_exceed_the_actor(actor_manifest, tmp_path) -> None:
    status, output = run_until_exit(tmp_path, actor_manifest, **{
        'limits.command_low': [-0.2], 'limits.action_names': ['linear_x', 'angular_z']})
    assert status != 0 and 'limits.command_low has 1 values' in output


def test_state_triggered_ticks_answer_every_state_and_status_is_rate_limited(
        actor_manifest, tmp_path) -> None:
    """control.trigger state: a command per state; ~/status at most status.max_rate_hz."""
    process = NodeProcess('steer_node', ros_arguments(
        params_file=write_params(tmp_path / 'params.yaml', actor_manifest),
        remaps={'state': 'triggered/odom', 'command': 'triggered/cmd_vel',
                '__node': 'triggered_steer'},
        parameters={'control.trigger': 'state', 'status.max_rate_hz': 10.0}),
        tmp_path / 'node.log')
    with RosClient('triggered_driver') as client, process:
        publisher = client.node.create_publisher(Odometry, 'triggered/odom',
                                                 qos_profile_sensor_data)
        sent = []

        def publish() -> None:
            sent.append(None)
            publisher.publish(odometry(0.0, 0.0, 0.0))
        client.node.create_timer(0.01, publish)
        commands = client.record(Twist, 'triggered/cmd_vel')
        statuses = client.record(SteeringStatus, '/triggered_steer/status')
        assert client.spin_until(lambda: len(statuses.messages) > 0, 30.0), process.output()
        counts = (len(sent), len(commands.messages), len(statuses.messages))
        client.spin_for(2.0)
        states = len(sent) - counts[0]
        answered = len(commands.messages) - counts[1]
        # Ticks that send the safe command (state stale under load) always publish a status.
        steered = [status for status in statuses.messages[counts[2]:]
                   if not status.stale_state and len(status.composed_mean)]
    assert answered >= 0.8 * states > 0, f'{answered} commands for {states} states'
    assert 5 <= len(steered) <= 10.0 * 2.0 + 2, \
        f'{len(steered)} steering statuses in 2 s at 10 Hz at most'
