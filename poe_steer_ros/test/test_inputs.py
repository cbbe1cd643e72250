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

"""Multi-topic observations: the input table, LaserScan conversion and the assembly rule."""

import math

import numpy as np
from poe_steer_ros.core.manifest import ObservationSpec
from poe_steer_ros.core.scan import ScanBinning
from poe_steer_ros.ros import adapters
from poe_steer_ros.ros.inputs import InputAssembly, required_sources
import pytest
from sensor_msgs.msg import LaserScan

SEEING = ObservationSpec(('base.v', 'goal.dx_body', 'scan.0', 'scan.1', 'scan.2', 'scan.3'),
                         scan_range_m=2.0)


def laser_scan(ranges: list[float], count: int = 8) -> LaserScan:
    increment = 2 * math.pi / count
    return LaserScan(angle_min=-math.pi, angle_increment=increment,
                     angle_max=-math.pi + increment * (count - 1), range_min=0.05,
                     range_max=4.0, ranges=ranges)


def test_sources_follow_the_manifests_field_prefixes() -> None:
    assert [source.name for source in required_sources(SEEING.fields)] == ['scan']
    assert required_sources(('base.x', 'base.v', 'goal.dx_body')) == []


def test_laser_scan_becomes_sector_features() -> None:
    ranges = [3.0, 3.0, 1.0, 3.0, 0.5, 3.0, math.inf, 3.0]  # ray 4 is straight ahead
    state = adapters.laser_scan_to_state(laser_scan(ranges), ScanBinning(4, 2.0))
    assert state == {'scan.0': 0.25, 'scan.1': 1.0, 'scan.2': 1.0, 'scan.3': 0.5}


@pytest.mark.parametrize('message, match', [
    (laser_scan([1.0] * 7 + [math.nan]), 'NaN'),
    (laser_scan([1.0] * 8, count=9), 'angle_max'),
    (laser_scan([1.0] * 2, count=2), 'get no ray'),
])
def test_unusable_scans_are_rejected(message: LaserScan, match: str) -> None:
    with pytest.raises(adapters.MessageError, match=match):
        adapters.laser_scan_to_state(message, ScanBinning(4, 2.0))


def test_converter_of_the_table_uses_the_manifests_sectors_and_cap() -> None:
    (source,) = required_sources(SEEING.fields)
    convert = source.make_converter(SEEING)
    assert convert(laser_scan([1.0] * 8)) == dict.fromkeys(
        ('scan.0', 'scan.1', 'scan.2', 'scan.3'), 0.5)
    assert source.message_type is LaserScan and source.max_age_parameter == 'scan.max_age_s'


def test_each_input_goes_stale_on_its_own_age_limit() -> None:
    inputs = InputAssembly(['scan', 'imu'])
    limits = {'scan': 0.3, 'imu': 0.05}
    assert inputs.stale(0.0, limits) == ['scan', 'imu']  # nothing received yet
    inputs.store('scan', {'scan.0': 0.5}, 1.0)
    inputs.store('imu', {'imu.w': 0.1}, 1.0)
    assert inputs.stale(1.04, limits) == []
    assert inputs.stale(1.1, limits) == ['imu']
    assert inputs.stale(1.4, limits) == ['scan', 'imu']
    assert inputs.stale(0.9, limits) == ['scan', 'imu']  # clock jumped back past the arrival
    assert inputs.ages_s(1.1) == pytest.approx({'scan': 0.1, 'imu': 0.1})


def test_the_tick_uses_the_latest_of_each_input_merged_into_the_state() -> None:
    inputs = InputAssembly(['scan'])
    base = {'base.v': 0.2}
    assert inputs.merged(base) == base
    inputs.store('scan', {'scan.0': 0.5}, 1.0)
    inputs.store('scan', {'scan.0': 0.25}, 1.05)
    merged = inputs.merged(base)
    assert merged == {'base.v': 0.2, 'scan.0': 0.25} and base == {'base.v': 0.2}
    assert np.isfinite(inputs.ages_s(1.1)['scan'])
