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
Fuzzing a running steering node with hypothesis-generated messages and parameter sets.

For each node configuration, a good state stream keeps the node steering while hypothesis
draws a stream of events: state messages, RViz goal poses and GoalPrior messages (see
``strategies``), with a parameter set (SetParameters or SetParametersAtomically, several in
flight at once) every few messages. Nothing is shrunk: hypothesis is the generator, the
``CommandMonitor`` is the oracle. At the end the configured goal must survive a burst of invalid
goals, a parameter name holding a fake log line must not forge one, and the node must exit
cleanly on SIGINT with every parameter attempt in its audit log.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from pathlib import Path
import time
from typing import Any, Callable, Mapping

from geometry_msgs.msg import PoseStamped
from hypothesis import strategies as st
from poe_steer_lab.reliability import strategies
from poe_steer_lab.reliability.actors import (export_fixture_actor, FixtureKind, FIXTURES,
                                              JOINT_NAMES)
from poe_steer_lab.reliability.harness import (ANSWER_TIMEOUT_S, CommandMonitor, finish,
                                               NodeSetup, parameter_audit, ParameterAudit,
                                               ParameterCounts, ParameterStream,
                                               ProcessOutcome, SafetyTally,
                                               SteerNodeUnderTest, valid_state)
from poe_steer_lab.ros.client import RosClient
from poe_steer_msgs.msg import GoalPrior
from poe_steer_ros.ros.adapters import STATE_MESSAGES, StateType
from poe_steer_ros.ros.parameters import SPECS
from rclpy.qos import qos_profile_sensor_data

MESSAGE_RATE_HZ = 1000.0
"""Highest rate of fuzzed messages, per second (drawing them is usually slower)."""
GOOD_STATE_RATE_HZ = 50.0
DIAGNOSTICS_WAIT_S = 3.0
"""Longest wait for the node's next /diagnostics message (it publishes one a second)."""
SEED = 20261125

COMMON = {
    'limits.max_rate_per_s': [4.0, 16.0],
    'limits.alpha_max': 0.8,
    'steering.rule': 'poe',
    'steering.alpha': 0.5,
    'steering.alpha_ramp_s': 0.2,
    'control.state_timeout_s': 0.5,
}
SETUPS = {
    FixtureKind.BASE: NodeSetup('fuzz_odometry', FixtureKind.BASE, {
        **COMMON, 'state.type': 'odometry', 'command.type': 'twist_stamped',
        'control.trigger': 'state', 'control.rate_hz': 20.0,
        'limits.command_low': [-0.4, -1.5], 'limits.command_high': [0.8, 1.5],
        'goal': [2.0, 1.0], 'prior.type': 'pose'}),
    FixtureKind.JOINT: NodeSetup('fuzz_joint_state', FixtureKind.JOINT, {
        **COMMON, 'state.type': 'joint_state', 'command.type': 'joint_state',
        'control.trigger': 'timer', 'control.rate_hz': 100.0,
        'limits.command_low': [-0.8, -0.9], 'limits.command_high': [0.7, 0.9],
        'goal': [0.5, -0.5], 'prior.type': 'joint', 'prior.joint_names': list(JOINT_NAMES)}),
    FixtureKind.ARRAY: NodeSetup('fuzz_array', FixtureKind.ARRAY, {
        **COMMON, 'state.type': 'array', 'command.type': 'array',
        'control.trigger': 'state', 'control.rate_hz': 20.0,
        'limits.command_low': [-0.9, -0.5], 'limits.command_high': [0.6, 0.9],
        'goal': [0.3], 'prior.type': 'external'}),
}
"""One node per state message type, each with an envelope narrower than its actor's bounds."""
KEPT_GOALS = {FixtureKind.BASE: [1.5, 0.5], FixtureKind.JOINT: [0.2, 0.1],
              FixtureKind.ARRAY: [0.4]}
"""The goal set before the invalid-goal burst, which must still be in force after it."""
FORGED_NAME = 'x: 1 -> 2 accepted\n[INFO] [0.0] [poe_steer]: parameter limits.alpha_max'
"""A parameter name that would add a fake audit line if the node logged it unquoted."""
WRONG_SIZE_GOALS = {FixtureKind.BASE: [1.0] * 4, FixtureKind.JOINT: [1.0] * 3}
"""Goals of a size the node's prior rejects (an external prior defines no goal size)."""


@dataclasses.dataclass
class FuzzResult:
    """Counts of one node's fuzz run and everything it broke."""

    label: str
    sent: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    """Messages published, per input topic."""
    parameters: ParameterCounts = dataclasses.field(default_factory=ParameterCounts)
    tally: SafetyTally = dataclasses.field(default_factory=SafetyTally)
    audit: ParameterAudit = ParameterAudit(0, 0, 0, {})
    diagnostics: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """The node's last diagnostics: its own counts of rejected states and priors."""
    goal_kept: bool = False
    log_forgery_refused: bool = False
    """A parameter name holding a newline and a fake log line stayed on one quoted line."""
    outcome: ProcessOutcome = ProcessOutcome(False, None, False)
    wall_s: float = 0.0

    @property
    def messages(self) -> int:
        """Return the number of fuzzed messages published."""
        return sum(self.sent.values())

    @property
    def unaudited(self) -> int:
        """Return answered parameter entries missing from the node's parameter log."""
        return self.parameters.unaudited(self.audit)


def _events(kind: FixtureKind, now_s: Callable[[], float],
            parameter_per_mille: int) -> st.SearchStrategy[tuple[str, Any]]:
    """
    Return (input, value) events for the node of ``kind``.

    Inputs: ``parameters`` (a ParameterSet) about ``parameter_per_mille`` / 1000 of the time,
    else a message for ``state`` (three times out of five), ``goal_prior`` or ``goal_pose``
    (mobile base only).
    """
    action_dim = len(FIXTURES[kind].actions)
    states = {FixtureKind.BASE: strategies.odometry(),
              FixtureKind.JOINT: strategies.joint_states(JOINT_NAMES),
              FixtureKind.ARRAY: strategies.arrays(3)}[kind]
    priors = strategies.goal_priors(action_dim, now_s)
    weighted = [('state', states)] * 3 + [('goal_prior', priors)]
    if kind is FixtureKind.BASE:
        weighted.append(('goal_pose', strategies.goal_poses()))
    messages = st.one_of(*(st.tuples(st.just(name), strategy) for name, strategy in weighted))
    requests = st.tuples(st.just('parameters'), strategies.parameter_sets(JOINT_NAMES))
    return st.integers(0, 999).flatmap(
        lambda draw: requests if draw < parameter_per_mille else messages)


def _pace(client: RosClient, until_s: float) -> None:
    """Process what is ready, then callbacks until the monotonic time ``until_s``."""
    client.executor.spin_once(timeout_sec=0.0)
    while (remaining := until_s - time.monotonic()) > 0:
        client.executor.spin_once(timeout_sec=remaining)


def _check_goal_kept(kind: FixtureKind, client: RosClient, node: SteerNodeUnderTest,
                     monitor: CommandMonitor, parameters: ParameterStream,
                     publishers: Mapping[str, Any]) -> bool:
    """
    Restore the node's settings with a known goal, then throw invalid goals at every input.

    :returns: whether the goal parameter and the goal in the node's status are unchanged.
    """
    kept = KEPT_GOALS[kind]
    runtime = {name: value for name, value in node.setup.parameters.items()
               if not SPECS[name].read_only}
    if not parameters.set_and_wait({**runtime, 'goal': kept}, atomic=True) or \
            not client.spin_until(lambda: monitor.last_status is not None
                                  and list(monitor.last_status.goal) == kept,
                                  ANSWER_TIMEOUT_S):
        return False
    if 'goal_pose' in publishers:
        bad_pose = PoseStamped()
        bad_pose.header.frame_id = 'odom'
        bad_pose.pose.position.x = math.nan
        bad_pose.pose.orientation.w = 1.0
        publishers['goal_pose'].publish(bad_pose)
    publishers['goal_prior'].publish(GoalPrior(mean=[math.nan] * len(kept), std=[-1.0]))
    bad_goals = [[math.nan] * len(kept), [math.inf] * len(kept), 'home', 3.0]
    if kind in WRONG_SIZE_GOALS:
        bad_goals.append(WRONG_SIZE_GOALS[kind])
    for bad_goal in bad_goals:
        parameters.set_and_wait({'goal': bad_goal})
    statuses = monitor.tally.statuses
    if not client.spin_until(lambda: monitor.tally.statuses >= statuses + 5, ANSWER_TIMEOUT_S):
        return False
    return (list(client.get_parameters(node.name, ['goal'])['goal']) == kept
            and list(monitor.last_status.goal) == kept)


def fuzz_node(kind: FixtureKind, messages: int, parameter_sets: int, log_dir: Path,
              fuzz_seed: int = SEED) -> FuzzResult:
    """
    Fuzz one steering node configuration and return the counts.

    :param kind: which node configuration of ``SETUPS``.
    :param messages: fuzzed messages to publish (at most ``MESSAGE_RATE_HZ`` per second).
    :param parameter_sets: parameter requests to send, interleaved with the messages.
    :param log_dir: where the actor, parameter file and node output go.
    :param fuzz_seed: hypothesis seed: the same seed draws the same stream.
    :raises RuntimeError: when the node never starts steering (its output is in the message).
    :raises ValueError: if ``messages`` or ``parameter_sets`` is below 1.
    """
    if messages < 1 or parameter_sets < 1:
        raise ValueError(f'messages and parameter_sets must be at least 1, got {messages} and '
                         f'{parameter_sets}')
    setup = SETUPS[kind]
    manifest = export_fixture_actor(kind, log_dir / 'actors' / kind.value)
    result = FuzzResult(setup.label)
    start_s = time.monotonic()
    node = SteerNodeUnderTest(setup, manifest, log_dir)
    with node, RosClient(f'fuzz_driver_{kind.value}') as client:
        monitor = CommandMonitor.for_node(client, node)
        publishers = {
            'state': client.node.create_publisher(
                STATE_MESSAGES[StateType(setup.parameters['state.type'])],
                node.topic('state'), qos_profile_sensor_data),
            'goal_prior': client.node.create_publisher(GoalPrior, node.topic('goal_prior'), 10)}
        if kind is FixtureKind.BASE:
            publishers['goal_pose'] = client.node.create_publisher(
                PoseStamped, node.topic('goal_pose'), 10)
        good_state = valid_state(kind)
        client.node.create_timer(1.0 / GOOD_STATE_RATE_HZ,
                                 lambda: publishers['state'].publish(good_state))
        node.wait_until_steering(client, monitor)
        stream = ParameterStream(client, node.name)
        result.parameters = stream.counts
        clock = client.node.get_clock()
        events = _events(kind, lambda: clock.now().nanoseconds * 1e-9,
                         round(1000 * parameter_sets / (messages + parameter_sets)))
        next_slot_s = [time.monotonic()]

        def handle(event: tuple[str, Any]) -> bool:
            if node.process.returncode is not None or (
                    result.messages >= messages and stream.counts.requests >= parameter_sets):
                return False
            name, value = event
            if name == 'parameters' and stream.counts.requests < parameter_sets:
                stream.submit(value.parameters, value.atomic)
            elif name != 'parameters' and result.messages < messages:
                publishers[name].publish(value)
                result.sent[name] += 1
                next_slot_s[0] = max(next_slot_s[0], time.monotonic()) + 1.0 / MESSAGE_RATE_HZ
                _pace(client, next_slot_s[0])
            return True

        strategies.for_each_example(events, handle, fuzz_seed)
        stream.drain()
        result.goal_kept = _check_goal_kept(kind, client, node, monitor, stream, publishers)
        stream.set_and_wait({FORGED_NAME: 0.5})
        # The node's counts after the fuzzing: wait for a diagnostics message sent from now on
        # (a short run may end before the first one, published a second after start-up).
        monitor.diagnostics = {}
        client.spin_until(lambda: bool(monitor.diagnostics), DIAGNOSTICS_WAIT_S)
        result.diagnostics = dict(monitor.diagnostics)
        result.outcome = finish(node.process)
        result.tally = monitor.tally
    output = node.process.output()
    result.audit = parameter_audit(output)
    result.log_forgery_refused = result.audit.by_name.get(FORGED_NAME) == 1 and not any(
        line.startswith('[INFO] [0.0]') for line in output.splitlines())
    result.wall_s = time.monotonic() - start_s
    return result
