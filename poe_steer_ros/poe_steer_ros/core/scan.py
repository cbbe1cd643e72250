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
Range-scan features: a planar scan reduced to a few sectors' nearest ranges.

An actor that sees observes ``scan.<i>`` fields, ``i = 0 .. bins - 1``: the nearest range in
sector ``i`` divided by the manifest's ``observation.scan_range_m`` and capped at 1. Sectors
split the full turn evenly in the body frame, counter-clockwise from straight ahead: sector
``i`` covers bearings ``[(i - 1/2) w, (i + 1/2) w)`` with ``w = 2 pi / bins``, so ``scan.0`` is
the front. The simulation (MuJoCo ray casts) and the ROS adapter (``sensor_msgs/LaserScan``)
both go through ``ScanBinning``, so training and deployment compute the same numbers.

Readings follow REP 117: a range above ``range_max`` (or ``+inf``, no return) counts as the
cap, one below ``range_min`` (or ``-inf``, too close) as 0. A NaN reading is an error of the
sensor: the whole scan is refused rather than guessed. One kernel (``core.per_state``: a compiled
loop where numba is installed) does the per-scan work: a control tick pays a few microseconds.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from poe_steer_ros.core import per_state

SCAN_PREFIX = 'scan.'


def scan_key(index: int) -> str:
    """Return the state key of scan sector ``index``."""
    return f'{SCAN_PREFIX}{index}'


class ScanError(ValueError):
    """A scan that cannot give features: NaN readings, wrong sizes, a sector without a ray."""


@dataclasses.dataclass(frozen=True)
class ScanGeometry:
    """Where a scan's rays point: ``count`` bearings from ``angle_min`` every ``increment``."""

    angle_min: float
    increment: float
    count: int

    def angles(self) -> np.ndarray:
        """Return the ray bearings (rad, body frame)."""
        return self.angle_min + self.increment * np.arange(self.count)


class ScanBinning:
    """
    Reduce a scan of fixed geometry to ``bins`` sector features in ``[0, 1]``.

    The sector of every ray is worked out once per geometry (a lidar's never changes), so a
    tick costs one pass over the ranges.
    """

    def __init__(self, bins: int, range_cap_m: float) -> None:
        """Check the sizes; raise ScanError for fewer than 1 bin or a non-positive cap."""
        if bins < 1:
            raise ScanError(f'bins must be >= 1, got {bins}')
        if not (math.isfinite(range_cap_m) and range_cap_m > 0.0):
            raise ScanError(f'range cap must be finite and > 0, got {range_cap_m}')
        self.bins = int(bins)
        self.range_cap_m = float(range_cap_m)
        self.keys = tuple(scan_key(index) for index in range(self.bins))
        self._geometry: ScanGeometry | None = None
        self._sectors = np.empty(0, dtype=np.intp)

    def sectors(self, angles: np.ndarray) -> np.ndarray:
        """Return the sector index of each bearing (rad)."""
        width = 2.0 * math.pi / self.bins
        turns = np.floor(np.asarray(angles, dtype=float) / width + 0.5).astype(np.intp)
        return np.mod(turns, self.bins)

    def _prepare(self, geometry: ScanGeometry) -> None:
        if geometry == self._geometry:
            return
        if geometry.count < 1 or not (math.isfinite(geometry.angle_min)
                                      and math.isfinite(geometry.increment)):
            raise ScanError(f'scan geometry is not usable: {geometry}')
        sectors = self.sectors(geometry.angles())
        counts = np.bincount(sectors, minlength=self.bins)
        if np.any(counts == 0):
            empty = np.flatnonzero(counts == 0).tolist()
            raise ScanError(f'sectors {empty} of {self.bins} get no ray from a scan of '
                            f'{geometry.count} rays from {geometry.angle_min:.3f} rad every '
                            f'{geometry.increment:.4f} rad')
        self._sectors = sectors
        self._geometry = geometry

    def features(self, geometry: ScanGeometry, ranges: np.ndarray, range_min: float = 0.0,
                 range_max: float = math.inf) -> np.ndarray:
        """
        Return the sector features of one scan.

        :param geometry: the bearings of ``ranges``.
        :param ranges: one range per ray (m).
        :param range_min: readings below it count as 0 (too close).
        :param range_max: readings above it count as the cap (no return).
        :returns: ``(bins,)`` float64 in ``[0, 1]``.
        :raises ScanError: for a NaN reading, a size that differs from the geometry's, or a
            sector that no ray covers.
        """
        values = np.asarray(ranges, dtype=np.float64)
        if values.shape != (geometry.count,):
            raise ScanError(f'scan has {values.size} ranges, its angles give {geometry.count}')
        self._prepare(geometry)
        features = np.empty(self.bins)
        if not per_state.KERNELS.sector_features(values, self._sectors, float(range_min),
                                                 float(range_max), self.range_cap_m, features):
            raise ScanError(f'scan has {int(np.isnan(values).sum())} NaN ranges')
        return features

    def state(self, geometry: ScanGeometry, ranges: np.ndarray, range_min: float = 0.0,
              range_max: float = math.inf) -> dict[str, float]:
        """Return the features as state entries ``scan.<i>`` (see ``features``)."""
        return dict(zip(self.keys, self.features(geometry, ranges, range_min,
                                                 range_max).tolist()))
