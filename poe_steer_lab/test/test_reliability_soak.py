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
