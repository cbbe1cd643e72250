"""The quick shutdown runs: the zero command is delivered; signals at start-up exit quietly."""

from __future__ import annotations

from poe_steer_lab.reliability import shutdown
import pytest

pytestmark = pytest.mark.ros


def test_a_stopped_node_delivers_the_zero_command_every_time(tmp_path) -> None:
    result = shutdown.shutdown_runs(4, tmp_path)
    assert result.passed, '\n'.join(result.failures)


def test_a_signal_during_start_up_exits_zero_quietly(tmp_path) -> None:
    result = shutdown.startup_signal_runs((0.6, 1.5), tmp_path)
    assert result.passed, '\n'.join(result.failures)
