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
Soak: state at a high rate for a long time; memory, latency and answers must stay flat.

The node answers each Odometry with a TwistStamped carrying its stamp (``control.trigger:
state``), so the driver measures each tick's latency through DDS (receive time minus stamp, one
clock). Once a second it reads the node's resident memory from ``/proc``. Least-squares slopes
over the run after a warm-up say whether memory or latency grow; the answers still arriving
after the stream stops say whether a queue built up. Every command also goes through the
``CommandMonitor``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
import time

from geometry_msgs.msg import TwistStamped
from matplotlib.figure import Figure
from nav_msgs.msg import Odometry
import numpy as np
from poe_steer_lab.reliability.actors import export_fixture_actor, FixtureKind
from poe_steer_lab.reliability.harness import (CommandMonitor, finish, NodeSetup,
                                               ProcessOutcome, resident_memory_mb, SafetyTally,
                                               START_TIMEOUT_S, SteerNodeUnderTest,
                                               valid_state)
from poe_steer_lab.ros.client import RosClient
from rclpy.qos import qos_profile_sensor_data

SETUP = NodeSetup('soak', FixtureKind.BASE, {
    'state.type': 'odometry', 'command.type': 'twist_stamped', 'control.trigger': 'state',
    'control.rate_hz': 50.0, 'control.state_timeout_s': 0.5, 'actor.device': 'cpu',
    'limits.command_low': [-0.4, -1.5], 'limits.command_high': [0.8, 1.5],
    'limits.max_rate_per_s': [4.0, 16.0], 'limits.alpha_max': 0.8,
    'steering.rule': 'poe', 'steering.alpha': 0.5, 'steering.kl_budget': 0.05,
    'goal': [3.0, 1.0]})
"""The node answers each state; its 50 Hz timer only watches for stale state."""
WARM_UP_S = 10.0
"""Left out of the slopes: discovery, allocator and cache warm-up (a third of shorter soaks)."""
WINDOW_S = 1.0
DRAIN_S = 1.0
"""After the stream stops, answers are awaited this long (they would reveal a backlog)."""


class SoakError(RuntimeError):
    """The soak could not be carried out (not a finding about the node)."""


@dataclasses.dataclass
class SoakResult:
    """Series and counts of one soak run."""

    rate_hz: float
    duration_s: float
    warm_up_s: float
    """Left out of the slopes."""
    sent: int = 0
    answered: int = 0
    answers_after_stop: int = 0
    memory: list[tuple[float, float]] = dataclasses.field(default_factory=list)
    """(seconds since the stream started, resident memory MiB)."""
    latencies: list[tuple[float, float]] = dataclasses.field(default_factory=list)
    """(seconds since the stream started, state -> command latency s), one per answer."""
    tally: SafetyTally = dataclasses.field(default_factory=SafetyTally)
    outcome: ProcessOutcome = ProcessOutcome(False, None, False)

    @property
    def achieved_rate_hz(self) -> float:
        """Return the state rate the driver actually reached, Hz."""
        return self.sent / self.duration_s

    def latency_windows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return window centres (s), median and p99 latency per window (ms)."""
        series = np.asarray(self.latencies).reshape(-1, 2)
        edges = np.arange(0.0, self.duration_s + WINDOW_S, WINDOW_S)
        index = np.digitize(series[:, 0], edges) - 1
        centres, medians, tails = [], [], []
        for window in range(len(edges) - 1):
            values = series[index == window, 1] * 1e3
            if values.size:
                centres.append(edges[window] + WINDOW_S / 2.0)
                medians.append(np.median(values))
                tails.append(np.percentile(values, 99))
        return np.asarray(centres), np.asarray(medians), np.asarray(tails)

    def memory_slope_mb_per_min(self, part: slice = slice(None)) -> float:
        """
        Return the least-squares slope of resident memory after warm-up, MiB per minute.

        :param part: which of the samples after the warm-up to fit (default: all).
        """
        series = np.asarray(self.memory).reshape(-1, 2)
        series = series[series[:, 0] >= self.warm_up_s][part]
        return _slope_per_min(series[:, 0], series[:, 1], self.warm_up_s)

    def memory_slope_halves(self) -> tuple[float, float]:
        """Return the memory slope over the first and the second half after warm-up, MiB/min."""
        count = sum(time_s >= self.warm_up_s for time_s, _ in self.memory)
        return (self.memory_slope_mb_per_min(slice(0, count // 2)),
                self.memory_slope_mb_per_min(slice(count // 2, None)))

    def latency_slope_ms_per_min(self, tail: bool = False) -> float:
        """Return the slope of the per-window median (or p99) latency after warm-up, ms/min."""
        centres, medians, tails = self.latency_windows()
        return _slope_per_min(centres, tails if tail else medians, self.warm_up_s)


def _slope_per_min(times_s: np.ndarray, values: np.ndarray, warm_up_s: float) -> float:
    """Return the least-squares slope of ``values`` over ``times_s`` after ``warm_up_s``, /min."""
    keep = times_s >= warm_up_s
    if np.count_nonzero(keep) < 2:
        return math.nan
    return float(np.polyfit(times_s[keep], values[keep], 1)[0] * 60.0)


def soak(duration_s: float, rate_hz: float, log_dir: Path) -> SoakResult:
    """
    Publish state at ``rate_hz`` for ``duration_s`` and record memory and latency.

    :param duration_s: length of the stream, s (wall time).
    :param rate_hz: state messages per second.
    :param log_dir: where the actor, parameter file and node output go.
    :raises SoakError: when the node never answers or its process cannot be found.
    """
    manifest = export_fixture_actor(FixtureKind.BASE, log_dir / 'actors' / 'base')
    result = SoakResult(rate_hz, duration_s, min(WARM_UP_S, duration_s / 3.0))
    node = SteerNodeUnderTest(SETUP, manifest, log_dir)
    with node, RosClient('soak_driver') as client:
        # Commands only: deserialising a status per tick would slow this driver below 1 kHz.
        monitor = CommandMonitor.for_node(client, node, watch_status=False)
        clock = client.node.get_clock()
        pending: set[int] = set()  # stamps (ns) of the states sent and not answered yet
        stream = {'start_ns': math.inf, 'start_s': 0.0, 'on': False, 'stopped_s': math.inf}
        answers_before_start = [0]

        def on_command(message: TwistStamped) -> None:
            stamp = message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec
            if stamp not in pending:
                return  # a safe command, stamped with the node's now
            pending.discard(stamp)
            if stamp < stream['start_ns']:
                answers_before_start[0] += 1
                return
            now = time.monotonic()
            result.answered += 1
            result.answers_after_stop += now > stream['stopped_s']
            result.latencies.append((now - stream['start_s'],
                                     (clock.now().nanoseconds - stamp) * 1e-9))

        monitor.command_listeners.append(on_command)
        publisher = client.node.create_publisher(Odometry, node.topic('state'),
                                                 qos_profile_sensor_data)
        state = valid_state(FixtureKind.BASE)

        def publish() -> None:
            if stream['stopped_s'] < math.inf:
                return
            now = clock.now()
            state.header.stamp = now.to_msg()
            pending.add(now.nanoseconds)
            result.sent += stream['on']
            publisher.publish(state)

        client.node.create_timer(1.0 / rate_hz, publish)
        if not client.spin_until(lambda: answers_before_start[0] > 0
                                 or node.process.returncode is not None, START_TIMEOUT_S) \
                or not answers_before_start[0]:
            raise SoakError(f'the node never answered a state:\n{node.process.output()}')
        pid = node.pid
        if pid is None:
            raise SoakError(f'no process found for {node.params_file}')

        def sample_memory() -> None:
            if stream['on']:
                result.memory.append((time.monotonic() - stream['start_s'],
                                      resident_memory_mb(pid)))

        client.node.create_timer(WINDOW_S, sample_memory)
        stream['start_ns'], stream['start_s'] = clock.now().nanoseconds, time.monotonic()
        stream['on'] = True
        client.spin_for(duration_s)
        stream['on'], stream['stopped_s'] = False, time.monotonic()
        client.spin_for(DRAIN_S)
        result.outcome = finish(node.process)
        result.tally = monitor.tally
    return result


def plot(result: SoakResult, path: Path) -> None:
    """Resident memory and per-window latency over the soak, with the warm-up marked."""
    figure = Figure(figsize=(10, 4))
    memory_axes, latency_axes = figure.subplots(1, 2)
    series = np.asarray(result.memory).reshape(-1, 2)
    memory_axes.plot(series[:, 0], series[:, 1])
    memory_axes.set_xlabel('time since the stream started (s)')
    memory_axes.set_ylabel('node resident memory (MiB)')
    memory_axes.set_title(f'{result.memory_slope_mb_per_min():+.3f} MiB/min after warm-up')
    centres, medians, tails = result.latency_windows()
    latency_axes.plot(centres, medians, label='median')
    latency_axes.plot(centres, tails, label='p99')
    latency_axes.set_xlabel('time since the stream started (s)')
    latency_axes.set_ylabel(f'state -> command latency per {WINDOW_S:g} s window (ms)')
    latency_axes.set_title(f'median {result.latency_slope_ms_per_min():+.4f} ms/min')
    latency_axes.legend()
    for axes in (memory_axes, latency_axes):
        axes.axvspan(0.0, result.warm_up_s, color='0.9')
    figure.tight_layout()
    figure.savefig(path, dpi=110)
