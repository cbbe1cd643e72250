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
Observation inputs besides the state topic, and the rule that assembles them into one state.

The state topic (``state.type``: odometry, joint states or an array) fills the base, joint and
array keys. An actor whose manifest lists fields of another kind needs more topics: the table
``INPUT_SOURCES`` maps a field prefix to the topic, message type, converter and age limit that
serve it, and the node subscribes to exactly the sources its actor's fields name. Today the
table holds the range scan (``scan.<i>`` <- ``sensor_msgs/LaserScan`` on ``scan``). The inputs
legged and arm policies ask for fit the same table: ``imu.*`` <- ``sensor_msgs/Imu``,
``joint.*`` from a second ``JointState`` topic, ``action.last.*`` from the node's own previous
command (a source fed by the node instead of a subscription).

Assembly rule, applied at every control tick (``InputAssembly``):

* each input keeps only its latest accepted message, converted, with its arrival time on the
  node clock; a message that cannot be converted (NaN readings, wrong sizes) is refused and the
  previous one stays until it ages out;
* each input has its own age limit (the state: ``control.state_timeout_s``; the scan:
  ``scan.max_age_s``); an input older than its limit by arrival on the node clock, not received
  yet, or arrived after the node clock's now (a clock jump back) is stale. The state is also
  judged by its own header stamp (``core.safety.StateFreshness``); other inputs by arrival;
* the tick uses the latest of every input, merged into one state (keys never overlap: each
  prefix has one source). Inputs are aligned by age, not interpolated: with every input within
  its limit, no two differ by more than the larger limit. Any stale input makes the tick send
  the safe command, and ``~/status`` names the stale inputs.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Sequence

from poe_steer_ros.core.manifest import ObservationSpec
from poe_steer_ros.core.scan import SCAN_PREFIX, ScanBinning
from poe_steer_ros.ros import adapters
from sensor_msgs.msg import LaserScan

STATE_INPUT = 'state'
"""Name of the state topic's input in ``InputAssembly`` and on ``~/status``."""
Converter = Callable[[Any], dict[str, float]]


def _scan_converter(observation: ObservationSpec) -> Converter:
    """Return the LaserScan converter of the manifest's scan sectors and range cap."""
    layout = observation.layout()
    binning = ScanBinning(layout.scan_bins, float(observation.scan_range_m or 0.0))
    return lambda message: adapters.laser_scan_to_state(message, binning)


@dataclasses.dataclass(frozen=True)
class InputSource:
    """
    An observation input selected by the prefix of the manifest's fields.

    :ivar name: input name: the topic (relative, remappable) and the label on ``~/status``.
    :ivar prefix: observation fields starting with it come from this input.
    :ivar message_type: the ROS message type subscribed to.
    :ivar max_age_parameter: the node parameter holding the input's age limit, s.
    :ivar make_converter: builds ``message -> state entries`` for the actor's observation.
    """

    name: str
    prefix: str
    message_type: type
    max_age_parameter: str
    make_converter: Callable[[ObservationSpec], Converter]


INPUT_SOURCES = (
    InputSource('scan', SCAN_PREFIX, LaserScan, 'scan.max_age_s', _scan_converter),
)


def required_sources(fields: Sequence[str]) -> list[InputSource]:
    """Return the sources whose prefix some observation field has, in table order."""
    return [source for source in INPUT_SOURCES
            if any(field.startswith(source.prefix) for field in fields)]


@dataclasses.dataclass
class Latest:
    """The last accepted message of one input, converted, and when it arrived (node clock, s)."""

    values: dict[str, float]
    arrival_s: float


class InputAssembly:
    """The latest message of each input, their ages, and the state they assemble into."""

    def __init__(self, names: Sequence[str]) -> None:
        """Track the inputs ``names`` (none received yet)."""
        self._latest: dict[str, Latest | None] = dict.fromkeys(names)

    @property
    def names(self) -> tuple[str, ...]:
        """Return the tracked inputs, in order."""
        return tuple(self._latest)

    def store(self, name: str, values: dict[str, float], arrival_s: float) -> None:
        """Keep ``values`` as the latest of input ``name``."""
        self._latest[name] = Latest(values, arrival_s)

    def ages_s(self, now_s: float) -> dict[str, float]:
        """Return each input's age at ``now_s`` (inf before its first message)."""
        return {name: math.inf if latest is None else now_s - latest.arrival_s
                for name, latest in self._latest.items()}

    def stale(self, now_s: float, max_ages_s: dict[str, float]) -> list[str]:
        """Return the inputs older than their limit, missing, or arrived after ``now_s``."""
        return [name for name, age in self.ages_s(now_s).items()
                if not 0.0 <= age <= max_ages_s[name]]

    def merged(self, base: dict[str, float]) -> dict[str, float]:
        """Return ``base`` (the state topic's values) with every input's latest values."""
        state = dict(base)
        for latest in self._latest.values():
            if latest is not None:
                state.update(latest.values)
        return state
