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
What the reliability runs share: the steering node under test and the checks on its output.

``SteerNodeUnderTest`` starts the installed ``steer_node`` executable as ``ros2 launch`` would
(a parameter file, a namespace remap) with a fixture actor. ``CommandMonitor`` subscribes to
every command and status the node sends and counts each one that breaks a guarantee: a
non-finite or out-of-bounds command, a step larger than the rate limit allows, a prior weight
above ``limits.alpha_max``, or a status without a usable goal. The checks are written from the
parameters the node was started with, not from the node's own code.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import math
import os
from pathlib import Path
import re
import time
from typing import Any, Callable, Mapping, Sequence

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
import numpy as np
from poe_steer_lab.reliability.actors import FixtureKind, FIXTURES, JOINT_NAMES
from poe_steer_lab.ros.client import RosClient
from poe_steer_lab.ros.processes import launch_table, NodeProcess, ros_arguments
from poe_steer_msgs.msg import SteeringStatus
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.ros.adapters import COMMAND_MESSAGES, CommandType, time_to_seconds
from poe_steer_ros.ros.parameters import SPECS
from rcl_interfaces.msg import SetParametersResult
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from rclpy.qos import QoSProfile
from rclpy.task import Future
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray
import yaml

ISOLATED_DOMAINS = (101, 200)
"""DDS domains a stand-alone run picks from (the test suite's conftest uses 1-100)."""
MONITOR_DEPTH = 1000
"""Queue depth of the monitor's subscriptions: no status may be lost between two checks."""
RATE_TOLERANCE = 1e-9
"""Command units: rounding allowed on top of a rate-limited step."""
EXAMPLES_KEPT = 5
PARAMETERS_IN_FLIGHT = 4
"""Parameter requests outstanding at once (the node's service queue keeps 10)."""
ANSWER_TIMEOUT_S = 10.0
START_TIMEOUT_S = 60.0
"""Longest wait for a node to load its actor and steer."""
PARAMETER_LINE = re.compile(
    r'\]: parameter (?P<name>\'(?:[^\'\\]|\\.)*\'|"(?:[^"\\]|\\.)*"|[^\s\'"]\S*?): '
    r'(?P<old>.*) -> (?P<new>.*) (?P<result>accepted|rejected)(?:: (?P<reason>.*))?$')
"""One line of the node's parameter audit log; names it does not own come quoted (repr)."""


def isolate_ros_graph() -> str:
    """
    Give this process and the nodes it starts a DDS domain of their own on the loopback.

    A stand-alone run publishes fuzzed states, goals and parameters: they must never reach a
    robot that shares the caller's ``ROS_DOMAIN_ID``. Call before the first rclpy context.

    :returns: the domain id chosen.
    """
    low, high = ISOLATED_DOMAINS
    os.environ['ROS_DOMAIN_ID'] = str(low + os.getpid() % (high - low + 1))
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    return os.environ['ROS_DOMAIN_ID']


@dataclasses.dataclass(frozen=True)
class NodeSetup:
    """
    One steering node configuration under test.

    :ivar label: short name; also the node's namespace under ``/reliability``.
    :ivar kind: the fixture actor (and so the state message type).
    :ivar parameters: the node's parameters on top of the defaults in code; must include
        ``command.type``, ``limits.command_low``, ``limits.command_high`` and
        ``limits.max_rate_per_s`` so that the checks know the envelope.
    """

    label: str
    kind: FixtureKind
    parameters: Mapping[str, Any]

    @property
    def envelope(self) -> SafetyEnvelope:
        """Return the envelope the node was started with, as the monitor checks it."""
        values = self.parameters
        return SafetyEnvelope(np.asarray(values['limits.command_low'], dtype=float),
                              np.asarray(values['limits.command_high'], dtype=float),
                              np.asarray(values['limits.max_rate_per_s'], dtype=float),
                              alpha_max=float(values.get('limits.alpha_max', 1.0)))

    @property
    def action_names(self) -> tuple[str, ...]:
        """Return the fixture actor's action names, in command order."""
        return FIXTURES[self.kind].actions


class SteerNodeUnderTest:
    """
    The steering node as a process, in namespace ``/reliability/<label>``.

    :param setup: what to run.
    :param manifest: the fixture actor's manifest.
    :param log_dir: where the parameter file and the node's output go.
    """

    def __init__(self, setup: NodeSetup, manifest: Path, log_dir: Path) -> None:
        table = launch_table('steer.launch.py')
        self.setup = setup
        self.namespace = f'/reliability/{setup.label}'
        self.name = f'{self.namespace}/{table.NODE_NAME}'
        self._executable = table.EXECUTABLE
        log_dir.mkdir(parents=True, exist_ok=True)
        self.params_file = log_dir / f'{setup.label}.params.yaml'
        values = {'limits.action_names': list(setup.action_names), **setup.parameters,
                  'actor.manifest': str(manifest.resolve())}
        self.params_file.write_text(yaml.safe_dump({'/**': {'ros__parameters': values}}))
        self.process = NodeProcess(table.EXECUTABLE, ros_arguments(
            params_file=self.params_file, remaps={'__ns': self.namespace}),
            log_dir / f'{setup.label}.log')

    def topic(self, name: str) -> str:
        """Return the absolute name of one of the node's relative topics."""
        return f'{self.namespace}/{name}'

    @property
    def pid(self) -> int | None:
        """Return the node's process id, found by its unique parameter file (None if gone)."""
        marker = str(self.params_file).encode()
        for entry in Path('/proc').iterdir():
            if not entry.name.isdigit():
                continue
            try:
                arguments = (entry / 'cmdline').read_bytes().split(b'\0')
            except OSError:
                continue
            if marker in arguments and any(self._executable.encode() in argument
                                           for argument in arguments[:2]):
                return int(entry.name)
        return None

    def wait_until_steering(self, client: RosClient, monitor: CommandMonitor) -> None:
        """
        Wait until the node has steered once (it may load and warm up its actor first).

        :raises RuntimeError: with the node's output, if it exits or never steers.
        """
        if not client.spin_until(lambda: monitor.tally.steered > 0
                                 or self.process.returncode is not None, START_TIMEOUT_S) \
                or monitor.tally.steered == 0:
            raise RuntimeError(f'{self.name} never steered (exit status '
                               f'{self.process.returncode}):\n{self.process.output()}')

    def __enter__(self) -> SteerNodeUnderTest:
        self.process.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.process.stop()


def resident_memory_mb(pid: int) -> float:
    """Return a process's resident set size (VmRSS), MiB."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024.0
    raise ValueError(f'process {pid} reports no VmRSS')


def command_vector(message: Any, action_names: Sequence[str]) -> np.ndarray:
    """Return the command a message carries, in ``action_names`` order (command units)."""
    if isinstance(message, (Twist, TwistStamped)):
        twist = message.twist if isinstance(message, TwistStamped) else message
        return np.array([getattr(getattr(twist, name.split('_')[0]), name.split('_')[1])
                         for name in action_names])
    if isinstance(message, Float64MultiArray):
        return np.asarray(message.data, dtype=float)
    if isinstance(message, JointState):
        by_name = dict(zip(message.name, message.velocity))
        return np.array([by_name.get(name, math.nan) for name in action_names])
    raise TypeError(f'unsupported command message {type(message).__name__}')


@dataclasses.dataclass
class SafetyTally:
    """Counts of what the node sent and of every broken guarantee, with a few examples."""

    commands: int = 0
    non_finite: int = 0
    out_of_bounds: int = 0
    statuses: int = 0
    steered: int = 0
    """Statuses of ticks that ran the pipeline (not the safe command)."""
    stale: int = 0
    """Statuses of ticks that sent the safe command because the state was stale or missing."""
    rate_checked: int = 0
    """Pairs of consecutive steered statuses whose step was checked against the rate limit."""
    rate_exceeded: int = 0
    alpha_exceeded: int = 0
    goal_lost: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)

    @property
    def violations(self) -> int:
        """Return the number of broken guarantees of every kind."""
        return (self.non_finite + self.out_of_bounds + self.rate_exceeded + self.alpha_exceeded
                + self.goal_lost)

    def note(self, text: str) -> None:
        """Keep the first few violations for the report."""
        if len(self.examples) < EXAMPLES_KEPT:
            self.examples.append(text)


class CommandMonitor:
    """
    Subscribes to a node's command, status and diagnostics and checks every message.

    :param client: the driving process's ROS client.
    :param envelope: bounds, rate limits and ``alpha_max`` the node was started with.
    :param action_names: the actor's action names, in command order.
    :param command_type: the node's ``command.type``.
    :param command_topic: absolute name of the node's ``command`` topic (after remaps).
    :param node_name: the node's fully qualified name (status is ``<node_name>/status``).
    :param check_rates: compare consecutive steered commands with the rate limits (needs the
        node on the system clock: status stamps then bound the time between ticks).
    :param watch_status: also check status and read diagnostics (deserialising every status
        costs the driving process time it may need to keep a high state rate).
    """

    def __init__(self, client: RosClient, envelope: SafetyEnvelope,
                 action_names: Sequence[str], command_type: CommandType | str,
                 command_topic: str, node_name: str, check_rates: bool = True,
                 watch_status: bool = True) -> None:
        self.tally = SafetyTally()
        self.diagnostics: dict[str, str] = {}
        self.last_status: SteeringStatus | None = None
        self.listeners: list[Callable[[SteeringStatus], None]] = []
        """Called with every status after it has been checked."""
        self.command_listeners: list[Callable[[Any], None]] = []
        """Called with every command message after it has been checked."""
        self._envelope = envelope
        self._action_names = tuple(action_names)
        self._check_rates = check_rates
        self._previous: SteeringStatus | None = None
        self._node_name = node_name
        depth = QoSProfile(depth=MONITOR_DEPTH)
        client.node.create_subscription(COMMAND_MESSAGES[CommandType(command_type)],
                                        command_topic, self.check_command, depth)
        if watch_status:
            client.node.create_subscription(SteeringStatus, f'{node_name}/status',
                                            self.check_status, depth)
            client.node.create_subscription(DiagnosticArray, '/diagnostics',
                                            self._on_diagnostics, depth)

    @classmethod
    def for_node(cls, client: RosClient, node: SteerNodeUnderTest, check_rates: bool = True,
                 watch_status: bool = True) -> CommandMonitor:
        """Return a monitor of a node started by ``SteerNodeUnderTest``."""
        setup = node.setup
        return cls(client, setup.envelope, setup.action_names, setup.parameters['command.type'],
                   node.topic('command'), node.name, check_rates, watch_status)

    def check_command(self, message: Any) -> None:
        """Count a command: non-finite, or outside the bounds, is a violation."""
        tally = self.tally
        tally.commands += 1
        command = command_vector(message, self._action_names)
        if command.shape != self._envelope.command_low.shape:
            tally.out_of_bounds += 1
            tally.note(f'command of {command.size} values for {self._envelope.dim} actions')
        elif not np.all(np.isfinite(command)):
            tally.non_finite += 1
            tally.note(f'non-finite command {command.tolist()}')
        elif np.any(command < self._envelope.command_low) or np.any(
                command > self._envelope.command_high):
            tally.out_of_bounds += 1
            tally.note(f'command {command.tolist()} outside [{self._envelope.command_low}, '
                       f'{self._envelope.command_high}]')
        for listener in self.command_listeners:
            listener(message)

    def check_status(self, status: SteeringStatus) -> None:
        """Count a status: a lost goal, alpha over alpha_max or a too steep step is a violation."""
        tally = self.tally
        tally.statuses += 1
        self.last_status = status
        goal = np.asarray(status.goal, dtype=float)
        if goal.size == 0 or not np.all(np.isfinite(goal)):
            tally.goal_lost += 1
            tally.note(f'status goal {goal.tolist()}')
        steered = len(status.composed_mean) > 0
        tally.stale += status.stale_state
        if steered:
            tally.steered += 1
            if status.alpha > self._envelope.alpha_max + RATE_TOLERANCE:
                tally.alpha_exceeded += 1
                tally.note(f'alpha {status.alpha} above alpha_max {self._envelope.alpha_max}')
        previous, self._previous = self._previous, status
        if self._check_rates and steered and previous is not None and \
                len(previous.composed_mean) > 0:
            self._check_step(previous, status)
        for listener in self.listeners:
            listener(status)

    def _check_step(self, previous: SteeringStatus, status: SteeringStatus) -> None:
        """
        Check one step against the rate limits.

        The node limits the step by the time between its ticks' starts; a status is stamped
        after its tick's work, within ``tick_latency_s`` of the start, so that time is at most
        the stamp difference plus the previous tick's latency.
        """
        self.tally.rate_checked += 1
        elapsed_s = (time_to_seconds(status.header.stamp)
                     - time_to_seconds(previous.header.stamp) + previous.tick_latency_s)
        step = np.abs(np.asarray(status.command) - np.asarray(previous.command))
        allowed = self._envelope.max_rate_per_s * max(elapsed_s, 0.0) + RATE_TOLERANCE
        if np.any(step > allowed):
            self.tally.rate_exceeded += 1
            self.tally.note(f'step {step.tolist()} in {elapsed_s:.6f} s exceeds '
                            f'{allowed.tolist()}')

    def _on_diagnostics(self, array: DiagnosticArray) -> None:
        for status in array.status:
            if status.name.startswith(self._node_name):
                self.diagnostics = {value.key: value.value for value in status.values}


@dataclasses.dataclass(frozen=True)
class ParameterAudit:
    """What the node's parameter log says about the attempts it received."""

    lines: int
    accepted: int
    rejected: int
    by_name: Mapping[str, int]


def parameter_audit(node_output: str) -> ParameterAudit:
    """Parse the node's ``parameter NAME: old -> new accepted|rejected`` lines."""
    results: collections.Counter[str] = collections.Counter()
    by_name: collections.Counter[str] = collections.Counter()
    for line in node_output.splitlines():
        match = PARAMETER_LINE.search(line)
        if match:
            name = match['name']
            results[match['result']] += 1
            by_name[ast.literal_eval(name) if name[0] in '\'"' else name] += 1
    return ParameterAudit(sum(results.values()), results['accepted'], results['rejected'],
                          dict(by_name))


@dataclasses.dataclass
class ParameterCounts:
    """What happened to the parameter requests sent to a node."""

    requests: int = 0
    entries: int = 0
    """Parameters in answered requests (an atomic request of three counts three)."""
    accepted: int = 0
    unanswered: int = 0
    names: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    """Names of the answered entries, as the node received them."""

    def unaudited(self, audit: ParameterAudit) -> int:
        """Return answered entries with no line in the node's parameter log."""
        return sum(max(0, count - audit.by_name.get(name, 0))
                   for name, count in self.names.items())


def typed_parameters(values: Mapping[str, Any]) -> list[Parameter]:
    """
    Return parameters for ``values``; empty lists get the type the node declared.

    rclpy infers a type from the value, which an empty list lacks (it would be a byte array).
    """
    return [Parameter(name, Parameter.Type(SPECS[name].ros_type), value)
            if value == [] and name in SPECS else Parameter(name, value=value)
            for name, value in values.items()]


def runtime_defaults() -> dict[str, Any]:
    """Return every runtime parameter of the node with its default from code."""
    return {name: spec.default for name, spec in SPECS.items() if not spec.read_only}


def _outcomes(response: Any, count: int) -> list[SetParametersResult]:
    """Return one result per parameter of a SetParameters or SetParametersAtomically answer."""
    return list(response.results) if hasattr(response, 'results') else [response.result] * count


class ParameterStream:
    """
    Parameter requests kept in flight against a node, as fast as it answers.

    :param client: the driving process's ROS client.
    :param node_name: the node's fully qualified name.
    :raises TimeoutError: if the node's parameter services do not appear.
    """

    def __init__(self, client: RosClient, node_name: str) -> None:
        self.counts = ParameterCounts()
        self._client = client
        self._parameters = AsyncParameterClient(client.node, node_name)
        self._pending: list[tuple[Future, Sequence[Parameter], float]] = []
        if not client.spin_until(self._parameters.services_are_ready, ANSWER_TIMEOUT_S):
            raise TimeoutError(f'parameter services of {node_name} not available after '
                               f'{ANSWER_TIMEOUT_S} s')

    def submit(self, parameters: Sequence[Parameter], atomic: bool) -> None:
        """Send one request once fewer than ``PARAMETERS_IN_FLIGHT`` are unanswered."""
        self._client.spin_until(lambda: self._settle() < PARAMETERS_IN_FLIGHT,
                                ANSWER_TIMEOUT_S)
        send = (self._parameters.set_parameters_atomically if atomic
                else self._parameters.set_parameters)
        self._pending.append((send(list(parameters)), parameters, time.monotonic()))
        self.counts.requests += 1

    def drain(self) -> None:
        """Wait until every request in flight is answered or past its deadline."""
        self._client.spin_until(lambda: self._settle() == 0, ANSWER_TIMEOUT_S + 1.0)
        self._settle(give_up=True)

    def set_and_wait(self, values: Mapping[str, Any], atomic: bool = False) -> bool:
        """Send one request outside the counts, wait for it; return whether all were set."""
        parameters = typed_parameters(values)
        future = (self._parameters.set_parameters_atomically(parameters) if atomic
                  else self._parameters.set_parameters(parameters))
        if not self._client.spin_until(future.done, ANSWER_TIMEOUT_S):
            return False
        return all(outcome.successful
                   for outcome in _outcomes(future.result(), len(parameters)))

    def _settle(self, give_up: bool = False) -> int:
        """Count answered requests, give up on overdue ones; return how many are in flight."""
        counts, still_pending = self.counts, []
        for future, parameters, sent_s in self._pending:
            if future.done():
                outcomes = _outcomes(future.result(), len(parameters))
                counts.entries += len(parameters)
                counts.accepted += sum(outcome.successful for outcome in outcomes)
                # ROS strings end at a NUL: that is the name the node receives. A read-only
                # parameter is accepted only with its current value, logged at debug level.
                counts.names.update(
                    name for name, outcome in zip(
                        (parameter.name.split('\0')[0] for parameter in parameters), outcomes)
                    if not (outcome.successful and name in SPECS and SPECS[name].read_only))
            elif give_up or time.monotonic() - sent_s > ANSWER_TIMEOUT_S:
                counts.unanswered += 1
            else:
                still_pending.append((future, parameters, sent_s))
        self._pending = still_pending
        return len(still_pending)


@dataclasses.dataclass(frozen=True)
class ProcessOutcome:
    """How a node process ended: the run's verdict on crashes."""

    alive_throughout: bool
    """Still running when the run asked it to stop."""
    exit_code: int | None
    traceback: bool
    """A Python traceback appeared in its output."""

    @property
    def crashed(self) -> bool:
        """Return whether the node died early, exited non-zero on SIGINT or printed a traceback."""
        return not self.alive_throughout or self.exit_code != 0 or self.traceback


def finish(process: NodeProcess) -> ProcessOutcome:
    """Stop a node process with SIGINT, as Ctrl-C does, and judge how it went."""
    alive = process.returncode is None
    exit_code = process.stop()
    return ProcessOutcome(alive, exit_code, 'Traceback' in process.output())


def valid_state(kind: FixtureKind) -> Any:
    """Return a well-formed state message for the node of ``kind`` (what a robot would send)."""
    if kind is FixtureKind.BASE:
        message = Odometry()
        message.header.frame_id = 'odom'
        message.pose.pose.position.x, message.pose.pose.position.y = 0.5, -0.2
        message.pose.pose.orientation.z = math.sin(0.15)
        message.pose.pose.orientation.w = math.cos(0.15)
        message.twist.twist.linear.x = 0.1
        return message
    if kind is FixtureKind.JOINT:
        return JointState(name=list(JOINT_NAMES), position=[0.1, -0.3], velocity=[0.0, 0.05])
    fields = FIXTURES[kind].fields
    return Float64MultiArray(data=[0.1 * (index + 1) for index, field in enumerate(fields)
                                   if field.startswith('array.')])
