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

"""The steering node with an actor that sees: odometry + scan assembled, support on ~/status."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator

import numpy as np
from poe_steer_lab.offline.export import export_actor
from poe_steer_lab.ros.client import RosClient
from poe_steer_lab.ros.processes import launch_table, NodeProcess, ros_arguments
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ModelFormat, OutputSpec, Provenance, StdKind
from poe_steer_ros.core.support import SupportModel
from poe_steer_ros.core.torch_actor import GaussianMLP
import pytest
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import LaserScan
from test_steer_node import Driver, odometry, write_params
import torch

pytestmark = pytest.mark.ros

SCAN_MAX_AGE_S = 0.2
FIELDS = ('base.v', 'goal.dx_body', 'goal.dy_body', 'scan.0', 'scan.1', 'scan.2', 'scan.3')
RAYS = 8


@pytest.fixture(scope='module')
def seeing_manifest(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    # Trained near the driver's state: v 0.1, the goal (1.79, 0.70) m away in the body frame,
    # a clear scan.
    data = np.random.default_rng(0).normal(
        [0.1, 1.79, 0.70, 1.0, 1.0, 1.0, 1.0], 0.05, size=(400, len(FIELDS)))
    manifests = export_actor(
        GaussianMLP(len(FIELDS), 2, [16], std=StdKind.HEAD), tmp_path_factory.mktemp('seeing'),
        observation_fields=FIELDS, action_names=('linear_x', 'angular_z'),
        provenance=Provenance('none', 'none', 'test fixture', '2026-12-07'),
        action_bounds=((-0.5, -2.0), (1.0, 2.0)), output=OutputSpec(OutputKind.TANH_GAUSSIAN),
        formats=('torchscript',), scan_range_m=2.0,
        support=SupportModel.fit(data, points=100, k=4))
    return manifests[ModelFormat.TORCHSCRIPT]


def laser_scan(range_m: float) -> LaserScan:
    increment = 2 * math.pi / RAYS
    return LaserScan(angle_min=-math.pi, angle_increment=increment,
                     angle_max=-math.pi + increment * (RAYS - 1), range_min=0.05,
                     range_max=4.0, ranges=[range_m] * RAYS)


class ScanDriver(Driver):
    """The odometry driver plus a scan publisher."""

    def __init__(self, client: RosClient) -> None:
        super().__init__(client)
        self.state = odometry(0.5, -0.2, 0.3)
        self.scan: LaserScan | None = None
        self._scan_publisher = client.node.create_publisher(LaserScan, 'scan',
                                                            qos_profile_sensor_data)
        client.node.create_timer(0.02, self._publish_scan)

    def _publish_scan(self) -> None:
        if self.scan is not None:
            self._scan_publisher.publish(self.scan)


@pytest.fixture(scope='module')
def driver(seeing_manifest, tmp_path_factory) -> Iterator[ScanDriver]:
    folder = tmp_path_factory.mktemp('node')
    table = launch_table('steer.launch.py')
    params = write_params(folder / 'params.yaml', seeing_manifest,
                          **{'scan.max_age_s': SCAN_MAX_AGE_S})
    process = NodeProcess(table.EXECUTABLE, ros_arguments(
        params_file=params, remaps=dict(table.REMAPPINGS)), folder / 'node.log')
    with process, RosClient('steer_scan_test_driver') as client:
        driver = ScanDriver(client)
        assert client.spin_until(lambda: len(driver.status.messages) > 2, 30.0), \
            f'no status; node output:\n{process.output()}'
        yield driver
    print(process.output())


def test_without_a_scan_the_safe_command_is_sent_and_the_scan_named(driver) -> None:
    status = driver.wait_status(lambda message: list(message.stale_inputs) == ['scan'])
    assert status.stale_state and list(status.command) == [0.0, 0.0]
    assert 'scan stale or missing' in status.detail
    assert math.isnan(status.actor_support)


def test_odometry_and_scan_steer_and_the_support_is_published(driver) -> None:
    driver.scan = laser_scan(3.0)
    status = driver.wait_status(lambda message: not message.stale_state)
    assert list(status.stale_inputs) == [] and any(status.command)
    assert status.actor_support == 1.0 and status.actor_std_scale == 1.0


def test_off_support_the_std_widens_and_back_on_support_it_does_not(driver) -> None:
    driver.scan = laser_scan(3.0)
    on = driver.wait_status(lambda message: not message.stale_state)
    driver.state = odometry(0.5, -0.2, 0.3, v=0.9, w=1.5)  # far from the training states
    try:
        off = driver.wait_status(lambda message: message.actor_support < 0.1)
        assert off.actor_std_scale > on.actor_std_scale
        assert off.actor_std[0] > on.actor_std[0]
    finally:
        driver.state = odometry(0.5, -0.2, 0.3)
    back = driver.wait_status(lambda message: message.actor_support == 1.0)
    assert back.actor_std_scale == 1.0


def test_a_scan_that_stops_goes_stale_on_its_own_limit(driver) -> None:
    driver.scan = laser_scan(3.0)
    driver.wait_status(lambda message: not message.stale_state)
    driver.scan = None
    try:
        status = driver.wait_status(lambda message: message.stale_state)
        assert list(status.stale_inputs) == ['scan'] and list(status.command) == [0.0, 0.0]
        assert status.state_age_s < SCAN_MAX_AGE_S  # odometry kept coming: only the scan aged
    finally:
        driver.scan = laser_scan(3.0)
    driver.wait_status(lambda message: not message.stale_state)


def test_a_nan_scan_is_refused_and_the_last_good_one_ages_out(driver) -> None:
    driver.scan = laser_scan(3.0)
    driver.wait_status(lambda message: not message.stale_state)
    driver.scan = laser_scan(math.nan)
    try:
        status = driver.wait_status(lambda message: message.stale_state)
        assert list(status.stale_inputs) == ['scan']
    finally:
        driver.scan = laser_scan(3.0)
    driver.wait_status(lambda message: not message.stale_state)
