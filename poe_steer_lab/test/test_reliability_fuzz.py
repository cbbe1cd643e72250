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

"""Fast subset of the fuzz campaign: real steering nodes, hypothesis-generated inputs."""

from __future__ import annotations

import math

from geometry_msgs.msg import TwistStamped
import numpy as np
from poe_steer_lab.reliability.actors import FixtureKind
from poe_steer_lab.reliability.fuzz import FORGED_NAME, fuzz_node
from poe_steer_lab.reliability.harness import CommandMonitor, parameter_audit
from poe_steer_lab.ros.client import RosClient
from poe_steer_msgs.msg import SteeringStatus
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.ros.adapters import seconds_to_time
import pytest

ENVELOPE = SafetyEnvelope(np.array([-0.4, -1.5]), np.array([0.8, 1.5]), np.array([4.0, 16.0]),
                          alpha_max=0.8)


@pytest.fixture(scope='module')
def monitor():
    """Return a factory of monitors on topics nobody publishes: the tests hand them messages."""
    with RosClient('monitor_oracle') as client:
        yield lambda: CommandMonitor(client, ENVELOPE, ('linear_x', 'angular_z'),
                                     'twist_stamped', '/oracle/command', '/oracle/poe_steer')


def command(x: float, w: float) -> TwistStamped:
    message = TwistStamped()
    message.twist.linear.x, message.twist.angular.z = x, w
    return message


def status(time_s: float, cmd: list[float], alpha: float = 0.5,
           goal: tuple[float, ...] = (1.0, 2.0), latency_s: float = 0.0) -> SteeringStatus:
    message = SteeringStatus(command=cmd, alpha=alpha, goal=list(goal), composed_mean=[0.0, 0.0],
                             tick_latency_s=latency_s)
    message.header.stamp = seconds_to_time(time_s)
    return message


def test_the_oracle_flags_every_kind_of_violation(monitor) -> None:
    """The checks the campaign relies on can fail: each broken guarantee is counted."""
    oracle = monitor()
    for message in (command(0.1, 0.0), command(math.nan, 0.0), command(0.9, 0.0),
                    command(0.0, -1.6)):
        oracle.check_command(message)
    # 0.6 in 0.1 s passes at 4/s only thanks to the first tick's latency; 1.5 rad/s in 0.05 s
    # is too steep at 16/s.
    for message in (status(1.0, [0.0, 0.0], latency_s=0.05), status(1.1, [0.6, 0.0]),
                    status(1.15, [0.8, 1.5]), status(1.3, [0.8, 1.5], alpha=0.81),
                    status(1.4, [0.8, 1.5], goal=())):
        oracle.check_status(message)
    tally = oracle.tally
    assert (tally.commands, tally.non_finite, tally.out_of_bounds) == (4, 1, 2)
    assert (tally.rate_checked, tally.rate_exceeded) == (4, 1)
    assert (tally.alpha_exceeded, tally.goal_lost) == (1, 1)
    assert tally.violations == 6 and len(tally.examples) == 5


def test_parameter_audit_reads_plain_and_quoted_names() -> None:
    log = '\n'.join([
        '[INFO] [1.0] [poe_steer]: parameter steering.alpha: 0.5 -> 0.7 accepted',
        '[WARN] [1.1] [poe_steer]: parameter goal: [1.0] -> [nan] rejected: goal must be finite',
        '[WARN] [1.2] [poe_steer]: parameter ' + repr(FORGED_NAME) + ': None -> 3 rejected: '
        'not a parameter of this node',
        '[INFO] [1.3] [poe_steer]: stopped; safe command sent'])
    audit = parameter_audit(log)
    assert (audit.lines, audit.accepted, audit.rejected) == (3, 1, 2)
    assert audit.by_name == {'steering.alpha': 1, 'goal': 1, FORGED_NAME: 1}


@pytest.mark.ros
@pytest.mark.parametrize('kind, messages, requests', [
    (FixtureKind.BASE, 300, 100), (FixtureKind.JOINT, 200, 50), (FixtureKind.ARRAY, 200, 50)])
def test_fuzzed_node_keeps_every_guarantee(tmp_path, kind: FixtureKind, messages: int,
                                           requests: int) -> None:
    result = fuzz_node(kind, messages, requests, tmp_path)
    report = f'{result}\nnode log: {tmp_path}'
    assert result.messages == messages and result.parameters.requests == requests, report
    assert result.tally.steered > 0 and result.tally.rate_checked > 0, report
    assert int(result.diagnostics['states_rejected']) > 0, 'no fuzzed state reached the node'
    assert result.tally.violations == 0, result.tally.examples
    assert not result.outcome.crashed, report
    assert result.goal_kept and result.log_forgery_refused, report
    assert result.parameters.unanswered == 0 and result.unaudited == 0, report
    assert result.audit.rejected > 0 and result.audit.accepted > 0, report
