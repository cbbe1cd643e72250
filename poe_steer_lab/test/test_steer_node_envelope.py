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
The steering node's envelope from outside, over DDS: what the node sends, refuses and logs.

One node process (fixture base actor, 50 Hz, rate limits, alpha_max 0.5, short hold and goal
prior limits, pinned bundle) is driven by a test peer; start-up refusals start their own.
"""

from __future__ import annotations

import math
from pathlib import Path
import time
from typing import Iterator

from geometry_msgs.msg import Twist
import numpy as np
from poe_steer_lab.reliability.actors import export_fixture_actor, FixtureKind
from poe_steer_lab.reliability.harness import valid_state
from poe_steer_lab.ros.client import RosClient
from poe_steer_lab.ros.processes import NodeProcess, ros_arguments
from poe_steer_msgs.msg import GoalPrior, SteeringStatus
from poe_steer_ros.core.manifest import ActorManifest
from poe_steer_ros.ros import adapters
import pytest
from rcl_interfaces.srv import SetParametersAtomically
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
import yaml

from test_steer_node import Driver  # noqa: I100 (the test folder)

pytestmark = pytest.mark.ros

RATE_HZ = 50.0
RATES = np.array([0.5, 1.0])
HOLD_MAX_S = 0.4
PRIOR_MAX_S = 1.0
ALPHA_MAX = 0.5
NODE = '/envelope/poe_steer'


@pytest.fixture(scope='module')
def manifest(tmp_path_factory) -> Path:
    return export_fixture_actor(FixtureKind.BASE, tmp_path_factory.mktemp('envelope_actor'))


def parameters(manifest: Path, **extra) -> dict:
    return {'actor.manifest': str(manifest), 'actor.device': 'cpu',
            'actor.bundle_sha256': ActorManifest.load(manifest).bundle_sha256,
            'control.rate_hz': RATE_HZ, 'control.state_timeout_s': 0.3,
            'control.safe_command': 'zero', 'goal': [2.0, 1.0], 'steering.rule': 'poe',
            'steering.alpha': 0.5, 'steering.alpha_ramp_s': 0.0,
            'limits.action_names': ['linear_x', 'angular_z'],
            'limits.max_rate_per_s': RATES.tolist(), 'limits.alpha_max': ALPHA_MAX,
            'limits.hold_max_s': HOLD_MAX_S, 'limits.goal_prior_max_s': PRIOR_MAX_S, **extra}


def start(folder: Path, values: dict, namespace: str = '/envelope') -> NodeProcess:
    folder.mkdir(parents=True, exist_ok=True)
    params = folder / 'params.yaml'
    params.write_text(yaml.safe_dump({'/**': {'ros__parameters': values}}))
    return NodeProcess('steer_node', ros_arguments(params_file=params,
                                                   remaps={'__ns': namespace}),
                       folder / 'node.log')


class Peer:
    """Publishes stamped odometry (stamp offset settable) and records commands and status."""

    def __init__(self, client: RosClient) -> None:
        self.client = client
        self.publishing = True
        self.stamp_offset_s: float | None = 0.0
        self._state = valid_state(FixtureKind.BASE)
        self._publisher = client.node.create_publisher(
            type(self._state), '/envelope/state', qos_profile_sensor_data)
        self.prior_publisher = client.node.create_publisher(GoalPrior, '/envelope/goal_prior', 1)
        client.node.create_timer(0.01, self._publish)
        self.commands = client.record(Twist, '/envelope/command')
        self.status = client.record(SteeringStatus, f'{NODE}/status')
        self.arrivals: list[tuple[float, Twist]] = []
        client.node.create_subscription(Twist, '/envelope/command', lambda message: (
            self.arrivals.append((time.monotonic(), message))), 10)

    def now_s(self) -> float:
        return self.client.node.get_clock().now().nanoseconds * 1e-9

    def _publish(self) -> None:
        if not self.publishing:
            return
        offset = self.stamp_offset_s
        self._state.header.stamp = (adapters.seconds_to_time(self.now_s() + offset)
                                    if offset is not None else adapters.seconds_to_time(0.0))
        self._publisher.publish(self._state)

    wait_status = Driver.wait_status

    def set_parameters(self, **values) -> list:
        return self.client.set_parameters(NODE, values)


@pytest.fixture(scope='module')
def node(manifest, tmp_path_factory) -> Iterator[NodeProcess]:
    process = start(tmp_path_factory.mktemp('envelope'), parameters(manifest))
    with process:
        yield process
    print(process.output())


@pytest.fixture(scope='module')
def peer(node) -> Iterator[Peer]:
    with RosClient('envelope_peer') as client:
        peer = Peer(client)
        assert client.spin_until(lambda: any(
            abs(message.linear.x) > 0.05 for message in peer.commands.messages), 30.0), \
            node.output()
        yield peer


def moving(message: SteeringStatus) -> bool:
    return not message.stale_state and abs(message.command[0]) > 0.05


def test_resume_after_stale_state_is_rate_limited_from_the_stop(peer) -> None:
    for _ in range(3):
        peer.wait_status(moving)
        peer.publishing = False
        try:
            peer.wait_status(lambda message: message.stale_state
                             and list(message.command) == [0.0, 0.0])
            start = len(peer.arrivals)
        finally:
            peer.publishing = True
        peer.wait_status(lambda message: not message.stale_state)
        peer.client.spin_for(0.2)
        resumed = peer.arrivals[start:]
        steps = np.array([[message.linear.x, message.angular.z] for _, message in resumed])
        first = steps[np.flatnonzero(np.any(steps != 0.0, axis=1))[0]]
        # A tick or two (20 ms each, later under load) from the stop, not the 0.42 m/s and
        # 0.74 rad/s (8x the limit) sent before.
        assert np.all(np.abs(first) <= RATES * 4.0 / RATE_HZ + 1e-9), first
        # Every later step too, over the time between arrivals plus their jitter; a step to
        # zero is a safe command (stopping is always allowed).
        for (before_s, _), (after_s, _), previous, command in zip(
                resumed, resumed[1:], steps, steps[1:]):
            if np.any(command != 0.0):
                allowed = RATES * (after_s - before_s + 2.0 / RATE_HZ) + 1e-9
                assert np.all(np.abs(command - previous) <= allowed), (previous, command)


@pytest.mark.parametrize('offset_s', [-100.0, -1.0, 100.0, 1.0])
def test_state_stamped_too_old_or_ahead_is_stale(peer, offset_s) -> None:
    peer.wait_status(lambda message: not message.stale_state)
    peer.stamp_offset_s = offset_s
    try:
        status = peer.wait_status(lambda message: message.stale_state)
        assert list(status.command) == [0.0, 0.0]
    finally:
        peer.stamp_offset_s = 0.0
    peer.wait_status(lambda message: not message.stale_state)
    peer.stamp_offset_s = None  # unstamped (zero stamp): arrival time counts
    try:
        peer.client.spin_for(0.3)
        assert not peer.status.latest.stale_state
    finally:
        peer.stamp_offset_s = 0.0


def test_hold_falls_back_to_zero_after_its_longest_time(peer) -> None:
    results = peer.set_parameters(**{'control.safe_command': 'hold'})
    assert all(result.successful for result in results)
    try:
        held = peer.wait_status(moving).command
        peer.publishing = False
        try:
            peer.wait_status(lambda message: message.stale_state)
            stale_since = time.monotonic()
            peer.wait_status(lambda message: list(message.command) == [0.0, 0.0], 5.0)
            held_for_s = time.monotonic() - stale_since
        finally:
            peer.publishing = True
        assert abs(held[0]) > 0.05 and held_for_s <= HOLD_MAX_S + 0.3
    finally:
        peer.set_parameters(**{'control.safe_command': 'zero'})


@pytest.mark.parametrize('values', [{'control.state_timeout_s': 2.0},
                                    {'control.stamp_tolerance_s': 0.5},
                                    {'limits.hold_max_s': 100.0}])
def test_settings_that_widen_the_envelope_are_bounded(peer, values) -> None:
    results = peer.set_parameters(**values)
    assert not results[0].successful


def goal_prior(peer: Peer, expiry_s: float, **fields) -> GoalPrior:
    values = {'space': GoalPrior.SPACE_COMMAND, 'mean': [-0.4, 1.5], 'std': [0.05, 0.05],
              'weight': float('nan'), 'expiry': adapters.seconds_to_time(expiry_s), **fields}
    return GoalPrior(**values)


def external_prior_active(peer: Peer) -> bool:
    """Return whether any of the last 10 statuses under prior.type external had its prior."""
    return any(message.prior_active for message in peer.status.messages[-10:]
               if message.prior_type == 'external')


def test_goal_priors_are_ignored_unless_external_and_expire_within_the_limit(
        node, peer) -> None:
    peer.wait_status(lambda message: not message.stale_state)
    refusals = node.output().count('external priors are ignored')
    peer.prior_publisher.publish(goal_prior(peer, peer.now_s() + 60.0))
    assert peer.client.spin_until(
        lambda: node.output().count('external priors are ignored') > refusals, 10.0)
    assert all(result.successful for result in peer.set_parameters(**{'prior.type': 'external'}))
    try:
        peer.wait_status(lambda message: message.prior_type == 'external')
        peer.client.spin_for(0.3)
        assert not external_prior_active(peer)
        huge = goal_prior(peer, 0.0)
        huge.expiry.sec = 2**31 - 1
        peer.prior_publisher.publish(huge)
        received_s = time.monotonic()
        peer.wait_status(lambda message: message.prior_active)
        peer.wait_status(lambda message: not message.prior_active, 5.0)
        assert time.monotonic() - received_s <= PRIOR_MAX_S + 0.5
        broken = goal_prior(peer, peer.now_s() + 5.0)
        broken.expiry.nanosec = 1_000_000_000
        peer.prior_publisher.publish(broken)
        peer.client.spin_for(0.4)
        assert not external_prior_active(peer)
    finally:
        peer.set_parameters(**{'prior.type': 'pose'})


def test_alpha_max_bounds_the_effective_weight_of_a_sharp_prior(peer) -> None:
    assert all(result.successful for result in peer.set_parameters(**{
        'prior.type': 'external', 'steering.alpha': 0.01}))
    try:
        peer.wait_status(lambda message: message.prior_type == 'external')
        for weight in (0.01, float('nan'), 1.0):
            peer.prior_publisher.publish(goal_prior(peer, peer.now_s() + 0.5, std=[1e-6, 1e-6],
                                                    weight=weight))
            status = peer.wait_status(lambda message: message.prior_active)
            assert max(status.effective_prior_weight) <= ALPHA_MAX + 1e-9
            peer.wait_status(lambda message: not message.prior_active, 5.0)
    finally:
        peer.set_parameters(**{'prior.type': 'pose', 'steering.alpha': 0.5})


def test_the_audit_log_records_what_was_applied_in_bounded_lines(node, peer) -> None:
    request = SetParametersAtomically.Request()
    request.parameters = [Parameter('goal', value=[math.nan, 0.0]).to_parameter_msg(),
                          Parameter('goal', value=[2.0, 1.0]).to_parameter_msg()]
    response = peer.client.call(SetParametersAtomically, f'{NODE}/set_parameters_atomically',
                                request)
    assert response.result.successful
    peer.set_parameters(goal=[float(value) for value in range(100_000)])
    peer.client.spin_for(0.5)
    lines = [line for line in node.output().splitlines() if 'parameter goal:' in line]
    assert any('-> [nan, 0] superseded' in line for line in lines), lines
    assert not any('nan' in line and ' accepted' in line for line in lines), lines
    assert any('-> [2, 1] accepted' in line for line in lines), lines
    assert max(len(line) for line in lines) < 1000


def refused(folder: Path, values: dict, reason: str) -> None:
    process = start(folder, values, namespace=f'/refused_{folder.name}')
    process.start()
    try:
        status = process.wait(timeout_s=60.0)
    finally:
        process.stop()
    assert status not in (0, None), process.output()
    assert reason in process.output(), process.output()
    assert 'Traceback' not in process.output()


def edited_copy(manifest: Path, folder: Path, edit) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in manifest.parent.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    copy = folder / manifest.name
    data = yaml.safe_load(copy.read_text())
    edit(data)
    copy.write_text(yaml.safe_dump(data))
    return copy


def swap_names(data: dict) -> None:
    data['action']['names'] = list(reversed(data['action']['names']))


def huge_bounds(data: dict) -> None:
    data['action']['low'], data['action']['high'] = [-1e308, -1e308], [1e308, 1e308]


def test_start_up_refuses_anything_but_the_certified_bundle_and_named_limits(
        manifest, tmp_path) -> None:
    swapped = edited_copy(manifest, tmp_path / 'swapped', swap_names)
    certified = ActorManifest.load(manifest).bundle_sha256
    refused(tmp_path / 'pin', parameters(swapped, **{'actor.bundle_sha256': certified}),
            'not the pinned actor.bundle_sha256')
    refused(tmp_path / 'names', parameters(swapped, **{'actor.bundle_sha256': ''}),
            "limits are for actions ['linear_x', 'angular_z'] but the actor has "
            "['angular_z', 'linear_x']")
    refused(tmp_path / 'unnamed', parameters(manifest, **{'limits.action_names': []}),
            'name the actions they refer to')
    huge = edited_copy(manifest, tmp_path / 'huge_actor', huge_bounds)
    refused(tmp_path / 'huge', parameters(manifest, **{'actor.manifest': str(huge),
                                                       'actor.bundle_sha256': ''}),
            'bounds beyond +-1e+06')
