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

"""A short soak: the node answers state at 1 kHz, memory and latency are recorded and plotted."""

from __future__ import annotations

import math

from poe_steer_lab.reliability.soak import plot, soak
import pytest

pytestmark = pytest.mark.ros


def test_short_soak_records_memory_and_latency_with_no_violation(tmp_path) -> None:
    result = soak(3.0, 1000.0, tmp_path)
    assert result.sent > 0 and 0 < result.answered <= result.sent
    assert len(result.memory) >= 2 and all(rss > 0.0 for _, rss in result.memory)
    centres, medians, tails = result.latency_windows()
    assert centres.size >= 2 and (medians > 0.0).all() and (tails >= medians).all()
    assert math.isfinite(result.memory_slope_mb_per_min())
    assert math.isfinite(result.latency_slope_ms_per_min())
    assert result.tally.commands > 0 and result.tally.violations == 0, result.tally.examples
    assert not result.outcome.crashed, result.outcome
    plot(result, tmp_path / 'soak.png')
    assert (tmp_path / 'soak.png').stat().st_size > 0
