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
Shutdown: the steering node's last command reaches its subscriber, run after run.

Each run starts the node as a process with a fixture actor, feeds it state until it commands a
moving base, sends SIGINT or SIGTERM (alternately) and checks that the process exits 0 without
a traceback and that the last command a reliable subscriber received is the zero command. The
start-up runs send the signal at given delays after spawning instead, before or while the node
loads its actor: the process must exit 0, quietly.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
import signal
import time
from typing import Sequence

from geometry_msgs.msg import Twist
from poe_steer_lab.reliability.actors import export_fixture_actor, FixtureKind
from poe_steer_lab.reliability.faults import NODE_SETUP, StateFeed
from poe_steer_lab.reliability.harness import START_TIMEOUT_S, SteerNodeUnderTest
from poe_steer_lab.ros.client import RosClient

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_TIMEOUT_S = 15.0
"""Longest wait for the process to exit after the signal."""
LATE_MESSAGES_S = 0.3
"""How long the subscriber keeps listening after the exit, for messages still in flight."""
STARTUP_DELAYS_S = (0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 1.2, 1.6, 2.0, 2.5, 3.0)
"""When, after spawning, the start-up runs send their signal: during the interpreter's start-up
(up to about 0.1 s), then while the node imports and loads its actor."""


@dataclasses.dataclass
class ShutdownResult:
    """Counts over the runs, with the first failures described."""

    runs: int = 0
    zero_last: int = 0
    """Runs whose subscriber's last command was the zero command."""
    exit_zero: int = 0
    quiet: int = 0
    """Runs whose output holds no traceback."""
    failures: list[str] = dataclasses.field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Return whether every run exited 0, quietly, with zero as the last command."""
        return self.runs > 0 and self.zero_last == self.exit_zero == self.quiet == self.runs

    def record(self, label: str, zero_last: bool, status: int | None, output: str) -> None:
        """Count one run; keep a description of the first few failures."""
        self.runs += 1
        self.zero_last += zero_last
        self.exit_zero += status == 0
        self.quiet += 'Traceback' not in output
        if not (zero_last and status == 0 and 'Traceback' not in output) \
                and len(self.failures) < 5:
            self.failures.append(f'{label}: exit {status}, zero last {zero_last}\n'
                                 f'{output[-1500:]}')


def _node(label: str, log_dir: Path) -> SteerNodeUnderTest:
    setup = dataclasses.replace(NODE_SETUP, label=label)
    return SteerNodeUnderTest(setup, export_fixture_actor(
        FixtureKind.BASE, log_dir / 'actors' / 'shutdown'), log_dir)


def shutdown_runs(runs: int, log_dir: Path) -> ShutdownResult:
    """
    Stop a moving node ``runs`` times (SIGINT and SIGTERM alternately) and count the outcomes.

    :param runs: how many node processes to start and stop.
    :param log_dir: where the actor, the parameter files and the node output go.
    """
    result = ShutdownResult()
    for run in range(runs):
        label = f'shutdown_{run}'
        node = _node(label, log_dir)
        with node, RosClient(f'{label}_driver') as client:
            commands = client.record(Twist, node.topic('command'))
            StateFeed(client, node, simulated_time=False)
            moving = client.spin_until(
                lambda: bool(commands.messages) and commands.latest.linear.x != 0.0
                or node.process.returncode is not None, START_TIMEOUT_S)
            node.process.send_signal(SIGNALS[run % 2])
            client.spin_until(lambda: node.process.returncode is not None, EXIT_TIMEOUT_S)
            client.spin_for(LATE_MESSAGES_S)
            last = commands.latest if commands.messages else None
            zero_last = moving and last is not None and (last.linear.x, last.angular.z) == (
                0.0, 0.0)
        result.record(label, zero_last, node.process.returncode, node.process.output())
    return result


def startup_signal_runs(delays_s: Sequence[float], log_dir: Path) -> ShutdownResult:
    """
    Signal the node ``delay`` seconds after spawning it, once per delay and signal.

    A run passes when the process exits 0 without a traceback; ``zero_last`` counts runs
    whose last command, if the node sent any, was zero.
    """
    result = ShutdownResult()
    for index, delay_s in enumerate(delays_s):
        for signum in SIGNALS:
            label = f'startup_{index}_{signum.name.lower()}'
            node = _node(label, log_dir)
            with RosClient(f'{label}_driver') as client:
                commands = client.record(Twist, node.topic('command'))
                with node:  # spawned once the driver listens: the delay counts from the spawn
                    time.sleep(delay_s)
                    node.process.send_signal(signum)
                    client.spin_until(lambda: node.process.returncode is not None,
                                      START_TIMEOUT_S + EXIT_TIMEOUT_S)
                    client.spin_for(LATE_MESSAGES_S)
                last = commands.latest if commands.messages else None
                zero_last = last is None or (last.linear.x, last.angular.z) == (0.0, 0.0)
            result.record(label, zero_last, node.process.returncode, node.process.output())
    return result
