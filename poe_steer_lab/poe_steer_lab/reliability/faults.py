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
Faults: what happens to the steering node when the world around it breaks.

Node-only faults run the node with a fixture actor and a driver in this process: the actor file
missing or tampered at start, CUDA requested where there is none, the state stream pausing and
resuming, and the node clock jumping back with no state yet (a simulator restarting before its
robot reports). Closed-loop faults run the MuJoCo simulator and the node as processes
(``ClosedLoop``): the simulator restarting mid-run, a parameter storm during control, and the
node killed with SIGKILL, after which the simulated base must stop through its own command
timeout. Each returns a ``FaultResult``: a verdict plus what was measured.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import math
from pathlib import Path
import signal
import time
from typing import Any, Callable, Iterator, Mapping

from geometry_msgs.msg import Twist
from hypothesis import strategies as st
from nav_msgs.msg import Odometry
import numpy as np
from poe_steer_lab.reliability import strategies
from poe_steer_lab.reliability.actors import (export_fixture_actor, FixtureKind, FIXTURES,
                                              JOINT_NAMES)
from poe_steer_lab.reliability.harness import (CommandMonitor, finish, NodeSetup,
                                               parameter_audit, ParameterStream,
                                               runtime_defaults, START_TIMEOUT_S,
                                               SteerNodeUnderTest, valid_state)
from poe_steer_lab.ros.client import RosClient
from poe_steer_lab.ros.closed_loop import ClosedLoop, SIM_NODE, STEER_NODE
from poe_steer_lab.ros.processes import launch_table, share_file, shipped_steer_parameters
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.ros.adapters import seconds_to_time, time_to_seconds
from rclpy.qos import qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
import torch
import yaml

STATE_TIMEOUT_S = 0.3
NODE_SETUP = NodeSetup('fault', FixtureKind.BASE, {
    'state.type': 'odometry', 'command.type': 'twist', 'control.rate_hz': 50.0,
    'control.state_timeout_s': STATE_TIMEOUT_S, 'control.safe_command': 'zero',
    'limits.command_low': [-0.4, -1.5], 'limits.command_high': [0.8, 1.5],
    'limits.max_rate_per_s': [4.0, 16.0], 'goal': [2.0, 1.0], 'steering.rule': 'poe',
    'steering.alpha': 0.5})
"""The node of the node-only faults: 50 Hz timer, stops (zero) when the state is stale."""
FEED_RATE_HZ = 100.0
"""State (and /clock, on simulated time) published by the driver."""
PAUSE_S = 1.0
"""How long the state stream pauses, or how long the state stays away after a clock jump."""
CLEAR_GOAL = (1.0, 1.5)
"""A closed-loop goal with a clear path from the start pose (no obstacle in between)."""
GOAL_TOLERANCE_M = 0.3
REAL_TIME_FACTOR = 2.0
MOVING_M_PER_S = 0.1
STOPPED_M_PER_S = 0.01
OUTAGE_S = 1.0
"""Wall seconds the simulator stays down between its stop and its restart."""
WAIT_S = 30.0
STORM_SEED = 20261126


class Damage(str, enum.Enum):
    """What is wrong with the frozen actor's files at start-up."""

    MISSING_MANIFEST = 'manifest missing'
    MISSING_MODEL = 'model file missing'
    TAMPERED_MODEL = 'model file tampered (one bit flipped)'


@dataclasses.dataclass(frozen=True)
class FaultResult:
    """One fault's verdict and what was measured, in words fit for the report."""

    name: str
    passed: bool
    measured: Mapping[str, str]
    applicable: bool = True
    """False when the machine cannot show this fault (e.g. CUDA is present)."""
    detail: str = ''
    """Node output when the fault did not pass."""


def _fault(name: str, checks: Mapping[str, bool], measured: Mapping[str, Any],
           output: str = '') -> FaultResult:
    """Return a result that passed only if every named check holds; failures are listed."""
    failed = [label for label, holds in checks.items() if not holds]
    detail = ('failed: ' + ', '.join(failed) + '\n' + output[-3000:]) if failed else ''
    return FaultResult(name, not failed, {key: str(value) for key, value in measured.items()},
                       detail=detail)


# Start-up faults ---------------------------------------------------------------------------

def _damage_actor(manifest: Path, damage: Damage) -> Path:
    """Damage an exported actor as ``damage`` says; return the manifest path to start with."""
    if damage is Damage.MISSING_MANIFEST:
        return manifest.with_name('absent.pt.yaml')
    model = manifest.parent / yaml.safe_load(manifest.read_text())['file']
    if damage is Damage.MISSING_MODEL:
        model.unlink()
    else:
        data = bytearray(model.read_bytes())
        data[len(data) // 2] ^= 0x01
        model.write_bytes(bytes(data))
    return manifest


def refused_at_start(damage: Damage, log_dir: Path) -> FaultResult:
    """
    Start the node on a damaged actor: it must refuse, exit non-zero and never command.

    :param damage: what is wrong with the actor's files.
    :param log_dir: where the actor, parameter file and node output go.
    """
    folder = log_dir / 'actors' / damage.name.lower()
    manifest = _damage_actor(export_fixture_actor(FixtureKind.BASE, folder), damage)
    setup = dataclasses.replace(NODE_SETUP, label=f'refused_{damage.name.lower()}')
    node = SteerNodeUnderTest(setup, manifest, log_dir)
    with node, RosClient(f'refused_driver_{damage.name.lower()}') as client:
        commands = client.record(Twist, node.topic('command'))
        exited = client.spin_until(lambda: node.process.returncode is not None,
                                   START_TIMEOUT_S)
        client.spin_for(0.2)
    output = node.process.output()
    reason = next((line.split('cannot start: ', 1)[1] for line in output.splitlines()
                   if 'cannot start: ' in line), '')
    expected = 'SHA-256' if damage is Damage.TAMPERED_MODEL else 'does not exist'
    return _fault(f'actor {damage.value} at start', {
        'exited': exited, 'non-zero exit': node.process.returncode not in (None, 0),
        'no command': not commands.messages, 'reason given': expected in reason,
        'no traceback': 'Traceback' not in output},
        {'exit code': node.process.returncode, 'commands sent': len(commands.messages),
         'reason logged': reason[:160]}, output)


def cuda_requested(log_dir: Path) -> FaultResult:
    """Request CUDA where there is none: the node must say so, run on CPU and steer."""
    if torch.cuda.is_available():
        return FaultResult('actor.device cuda without CUDA', True, {}, applicable=False,
                           detail='CUDA is present on this machine')
    setup = dataclasses.replace(NODE_SETUP, label='cuda_requested',
                                parameters={**NODE_SETUP.parameters, 'actor.device': 'cuda'})
    node = SteerNodeUnderTest(setup, export_fixture_actor(
        FixtureKind.BASE, log_dir / 'actors' / 'cuda'), log_dir)
    with node, RosClient('cuda_driver') as client:
        monitor = CommandMonitor.for_node(client, node)
        publisher = client.node.create_publisher(Odometry, node.topic('state'),
                                                 qos_profile_sensor_data)
        state = valid_state(FixtureKind.BASE)
        client.node.create_timer(1.0 / FEED_RATE_HZ, lambda: publisher.publish(state))
        steered = client.spin_until(lambda: monitor.tally.steered > 0 and bool(
            monitor.diagnostics), START_TIMEOUT_S)
        outcome = finish(node.process)
    output = node.process.output()
    warned = 'actor.device cuda is not available; running on cpu' in output
    device = monitor.diagnostics.get('actor_device', '')
    return _fault('actor.device cuda without CUDA', {
        'warned': warned, 'runs on cpu': device == 'cpu', 'steers': steered,
        'no violation': monitor.tally.violations == 0, 'no crash': not outcome.crashed},
        {'device in diagnostics': device, 'warning logged': warned,
         'steered ticks': monitor.tally.steered}, output)


# State stream and clock faults ---------------------------------------------------------------

class StateFeed:
    """
    Publishes the node's state, and ``/clock`` when the node runs on simulated time.

    :param client: the driving process's ROS client.
    :param node: the node under test.
    :param simulated_time: also publish ``/clock``, starting at ``start_s``.
    :param start_s: the simulated time at the start, s.
    """

    def __init__(self, client: RosClient, node: SteerNodeUnderTest, simulated_time: bool,
                 start_s: float = 100.0) -> None:
        self.publishing_state = True
        self._origin_s, self._anchor = start_s, time.monotonic()
        self._state = valid_state(FixtureKind.BASE)
        self._state_publisher = client.node.create_publisher(
            Odometry, node.topic('state'), qos_profile_sensor_data)
        self._clock_publisher = (client.node.create_publisher(Clock, '/clock', 10)
                                 if simulated_time else None)
        client.node.create_timer(1.0 / FEED_RATE_HZ, self._publish)

    def jump_to(self, time_s: float) -> None:
        """Set the simulated time to ``time_s`` from now on (a restarted simulator)."""
        self._origin_s, self._anchor = time_s, time.monotonic()

    def _publish(self) -> None:
        if self._clock_publisher is not None:
            stamp = seconds_to_time(self._origin_s + time.monotonic() - self._anchor)
            self._clock_publisher.publish(Clock(clock=stamp))
            self._state.header.stamp = stamp
        if self.publishing_state:
            self._state_publisher.publish(self._state)


@contextlib.contextmanager
def _fed_node(label: str, log_dir: Path, simulated_time: bool) -> Iterator[
        tuple[SteerNodeUnderTest, RosClient, CommandMonitor, StateFeed]]:
    """Start the fault node, a monitor and a state feed; yield them once the node steers."""
    parameters = {**NODE_SETUP.parameters, 'use_sim_time': simulated_time}
    setup = dataclasses.replace(NODE_SETUP, label=label, parameters=parameters)
    node = SteerNodeUnderTest(setup, export_fixture_actor(
        FixtureKind.BASE, log_dir / 'actors' / label), log_dir)
    with node, RosClient(f'{label}_driver') as client:
        monitor = CommandMonitor.for_node(client, node, check_rates=not simulated_time)
        feed = StateFeed(client, node, simulated_time)
        node.wait_until_steering(client, monitor)
        yield node, client, monitor, feed


def _first_status(monitor: CommandMonitor, client: RosClient,
                  condition: Callable[[Any], bool], timeout_s: float) -> Any | None:
    """Return the first status from now on for which ``condition`` holds (None on timeout)."""
    found: list[Any] = []

    def listen(status: Any) -> None:
        if not found and condition(status):
            found.append(status)
    monitor.listeners.append(listen)
    try:
        client.spin_until(lambda: bool(found), timeout_s)
    finally:
        monitor.listeners.remove(listen)
    return found[0] if found else None


def state_pause_resume(log_dir: Path) -> FaultResult:
    """Pause the state stream, then resume it: stop within the timeout, then steer again."""
    fed = _fed_node('pause_resume', log_dir, simulated_time=False)
    with fed as (node, client, monitor, feed):
        feed.publishing_state = False
        paused_s = time.monotonic()
        first_stale = _first_status(monitor, client, lambda s: s.stale_state, WAIT_S)
        stale_ticks, moving_while_stale = 0, 0

        def count(status: Any) -> bool:
            nonlocal stale_ticks, moving_while_stale
            stale_ticks += status.stale_state
            moving_while_stale += status.stale_state and any(status.command)
            return time.monotonic() - paused_s >= PAUSE_S
        _first_status(monitor, client, count, WAIT_S)
        feed.publishing_state = True
        resumed_s = time.monotonic()
        steered = _first_status(monitor, client, lambda s: len(s.composed_mean) > 0, WAIT_S)
        resume_latency_s = time.monotonic() - resumed_s
        outcome = finish(node.process)
    return _fault('state stream pauses and resumes', {
        'went stale': first_stale is not None, 'stopped while stale': moving_while_stale == 0,
        'steered again': steered is not None, 'no violation': monitor.tally.violations == 0,
        'no crash': not outcome.crashed},
        {'state age when flagged stale (s)': (f'{first_stale.state_age_s:.3f} (timeout '
                                              f'{STATE_TIMEOUT_S:g})' if first_stale else '-'),
         'stale ticks during the pause': stale_ticks,
         'non-zero commands while stale': moving_while_stale,
         'first steered tick after resuming (wall s)': f'{resume_latency_s:.3f}'},
        node.process.output())


def clock_jump_back(log_dir: Path) -> FaultResult:
    """
    On simulated time, jump the clock back 99 s with no state, then send state again.

    This is a simulator restarting while its robot is not reporting yet: the last state
    belongs to the old timeline and must not steer (its age is negative, not small).
    """
    fed = _fed_node('clock_jump', log_dir, simulated_time=True)
    with fed as (node, client, monitor, feed):
        feed.publishing_state = False
        feed.jump_to(1.0)
        steered_on_old_state = 0

        def new_timeline(status: Any) -> bool:
            nonlocal steered_on_old_state
            on_new = time_to_seconds(status.header.stamp) < 50.0
            steered_on_old_state += on_new and len(status.composed_mean) > 0
            return on_new and time_to_seconds(status.header.stamp) > 1.0 + PAUSE_S
        reached = _first_status(monitor, client, new_timeline, WAIT_S) is not None
        feed.publishing_state = True
        steered = _first_status(monitor, client, lambda s: len(s.composed_mean) > 0, WAIT_S)
        outcome = finish(node.process)
    return _fault('clock jumps back (simulator restart), no state yet', {
        'ticked on the new timeline': reached, 'did not steer on old state':
            steered_on_old_state == 0, 'steered again': steered is not None,
        'no violation': monitor.tally.violations == 0, 'no crash': not outcome.crashed},
        {'steered ticks on the pre-jump state': steered_on_old_state,
         'stale ticks in total': monitor.tally.stale}, node.process.output())


# Closed-loop faults -----------------------------------------------------------------------


def _sim_command_timeout_s() -> float:
    """Return the simulator's command timeout from its shipped parameters, s."""
    sim = launch_table('sim_mujoco.launch.py')
    values = yaml.safe_load(share_file(*sim.SIM_PARAMS_FILE, package=sim.PACKAGE).read_text())
    return float(values['/**']['ros__parameters']['command_timeout_s'])


@contextlib.contextmanager
def closed_loop(log_dir: Path) -> Iterator[ClosedLoop]:
    """Run the simulator and the node on the base fixture actor, heading for ``CLEAR_GOAL``."""
    manifest = export_fixture_actor(FixtureKind.BASE, log_dir / 'actors' / 'closed_loop')
    with ClosedLoop(log_dir, {'actor.manifest': str(manifest), 'goal': list(CLEAR_GOAL)},
                    real_time_factor=REAL_TIME_FACTOR) as loop:
        yield loop


def _driver(loop: ClosedLoop) -> RosClient:
    """Return the closed loop's ROS client."""
    if loop.client is None:
        raise RuntimeError('the closed loop is not running (use it in a with block)')
    return loop.client


def _odometry(loop: ClosedLoop) -> Any:
    """Record the base's odometry in the loop's client (its twist says how fast it moves)."""
    return _driver(loop).record(Odometry, 'odom', qos_profile_sensor_data)


def _speed(message: Odometry) -> float:
    """Return the larger of the base's forward (m/s) and turn (rad/s) speed magnitudes."""
    twist = message.twist.twist
    return max(abs(twist.linear.x), abs(twist.angular.z))


def sim_restart(loop: ClosedLoop) -> FaultResult:
    """Stop the simulator mid-run and start it again: the node must carry on safely."""
    client, odometry = _driver(loop), _odometry(loop)
    loop.reset_robot()
    moving = client.spin_until(lambda: bool(odometry.messages)
                               and _speed(odometry.messages[-1]) > MOVING_M_PER_S, WAIT_S)
    before_s = loop.sim_time_s
    loop.sim.stop()
    statuses_down = len(loop.statuses)
    client.spin_for(OUTAGE_S)
    statuses_during_outage = len(loop.statuses) - statuses_down
    restarted = len(loop.statuses)
    restart_wall_s = time.monotonic()
    loop.sim.start()
    resumed = client.spin_until(lambda: len(loop.statuses) > restarted, WAIT_S)
    silence_s = time.monotonic() - restart_wall_s
    moving_again = client.spin_until(
        lambda: any(len(s.composed_mean) > 0 for s in loop.statuses[restarted:]) and bool(
            odometry.messages) and _speed(odometry.messages[-1]) > MOVING_M_PER_S, WAIT_S)
    after_restart = loop.statuses[restarted:]
    negative_age = sum(len(s.composed_mean) > 0 and s.state_age_s < 0 for s in after_restart)
    first_stamp_s = time_to_seconds(after_restart[0].header.stamp) if after_restart else math.nan
    return _fault('simulator restarts mid-run', {
        'base was moving': moving, 'steering node alive': loop.steer.returncode is None,
        'ticks after the restart': resumed, 'moving again after the restart': moving_again,
        'no tick on a pre-restart state': negative_age == 0},
        {'sim time before the restart (s)': f'{before_s:.2f}',
         'statuses while the simulator was down': statuses_during_outage,
         'first tick after the restart (wall s after start, sim stamp s)':
             f'{silence_s:.2f}, {first_stamp_s:.2f}',
         'steered ticks on a pre-restart state': negative_age,
         'base moving again': moving_again}, loop.steer.output())


def _envelope(values: Mapping[str, Any]) -> SafetyEnvelope:
    """Return the envelope config/steer.yaml sets (the fixture actor's bounds are the same)."""
    return SafetyEnvelope(np.asarray(values['limits.command_low'], dtype=float),
                          np.asarray(values['limits.command_high'], dtype=float),
                          np.asarray(values['limits.max_rate_per_s'], dtype=float),
                          alpha_max=float(values['limits.alpha_max']))


def parameter_storm(loop: ClosedLoop, requests: int) -> FaultResult:
    """
    Fire ``requests`` parameter requests during control, then check the base still arrives.

    Half the requests are in-range changes of runtime settings, half come from
    ``strategies.parameter_sets``; none touches the goal. Several are in flight at once.
    Afterwards the shipped settings are restored and the goal must be reached again from the
    start pose.
    """
    client, shipped = _driver(loop), shipped_steer_parameters()
    monitor = CommandMonitor(client, _envelope(shipped), FIXTURES[FixtureKind.BASE].actions,
                             'twist', '/cmd_vel', STEER_NODE, check_rates=False)
    stream = ParameterStream(client, STEER_NODE)
    loop.reset_robot()
    statuses, sim_start_s, wall_start_s = len(loop.statuses), loop.sim_time_s, time.monotonic()
    storm = st.one_of(strategies.runtime_changes(JOINT_NAMES, excluded=('goal',)),
                      strategies.parameter_sets(JOINT_NAMES).filter(lambda request: all(
                          parameter.name != 'goal' for parameter in request.parameters)))

    def submit(request: strategies.ParameterSet) -> bool:
        wanted = stream.counts.requests < requests and loop.steer.returncode is None
        if wanted:
            stream.submit(request.parameters, request.atomic)
        return wanted
    strategies.for_each_example(storm, submit, STORM_SEED)
    stream.drain()
    storm_wall_s, storm_sim_s = time.monotonic() - wall_start_s, loop.sim_time_s - sim_start_s
    ticks = len(loop.statuses) - statuses
    loop.reset_robot()
    restored = stream.set_and_wait({**runtime_defaults(), **{
        name: value for name, value in shipped.items() if name in runtime_defaults()},
        'goal': list(CLEAR_GOAL)}, atomic=True)
    arrival_start_s = loop.sim_time_s

    def arrived() -> bool:
        x, y = loop.position
        return math.hypot(x - CLEAR_GOAL[0], y - CLEAR_GOAL[1]) <= GOAL_TOLERANCE_M
    loop.run(WAIT_S, until=arrived)
    audit = parameter_audit(loop.steer.output())
    rate_hz = float(shipped['control.rate_hz'])
    return _fault('parameter storm during control', {
        'steering node alive': loop.steer.returncode is None,
        'all answered': stream.counts.unanswered == 0, 'every attempt logged':
            stream.counts.unaudited(audit) == 0, 'no violation': monitor.tally.violations == 0,
        'settings restored': restored, 'goal reached afterwards': arrived()},
        {'requests': stream.counts.requests, 'parameters (accepted)':
            f'{stream.counts.entries} ({stream.counts.accepted})',
         'request rate (1/s wall)': f'{stream.counts.requests / storm_wall_s:.0f}',
         'ticks per simulated s during the storm':
             f'{ticks / max(storm_sim_s, 1e-9):.1f} (control.rate_hz {rate_hz:g})',
         'commands checked': monitor.tally.commands,
         'time to goal from the start pose afterwards (sim s)':
             f'{loop.sim_time_s - arrival_start_s:.1f}'},
        loop.steer.output())


def sigkill(loop: ClosedLoop) -> FaultResult:
    """Kill the node with SIGKILL while the base moves: the simulator must stop the base."""
    client, odometry = _driver(loop), _odometry(loop)
    loop.reset_robot()
    moving = client.spin_until(lambda: bool(odometry.messages)
                               and _speed(odometry.messages[-1]) > MOVING_M_PER_S, WAIT_S)
    killed_s = loop.sim_time_s
    loop.steer.send_signal(signal.SIGKILL)
    after = len(odometry.messages)

    def stopped() -> bool:
        return any(_speed(message) < STOPPED_M_PER_S for message in odometry.messages[after:])
    client.spin_until(stopped, WAIT_S)
    stop = next((message for message in odometry.messages[after:]
                 if _speed(message) < STOPPED_M_PER_S), None)
    stop_after_s = time_to_seconds(stop.header.stamp) - killed_s if stop else math.inf
    exit_code = loop.steer.wait(WAIT_S)
    timeout_s = _sim_command_timeout_s()
    sim_output = loop.sim.output()
    return _fault('steering node killed with SIGKILL', {
        'base was moving': moving, 'base stopped': stop is not None,
        'killed': exit_code == -signal.SIGKILL,
        'simulator stopped it by its timeout': 'stopping the base' in sim_output},
        {'base stopped after (sim s)': f'{stop_after_s:.2f} (command_timeout_s '
                                       f'{timeout_s:g})',
         'steering node exit code': exit_code},
        f'--- {SIM_NODE} ---\n{sim_output}')


def node_faults(log_dir: Path) -> list[FaultResult]:
    """Run every node-only fault."""
    return [*(refused_at_start(damage, log_dir) for damage in Damage),
            cuda_requested(log_dir), state_pause_resume(log_dir), clock_jump_back(log_dir)]


def closed_loop_faults(log_dir: Path, storm_requests: int) -> list[FaultResult]:
    """Run the closed-loop faults in one loop; the SIGKILL comes last, it ends the node."""
    with closed_loop(log_dir) as loop:
        return [sim_restart(loop), parameter_storm(loop, storm_requests), sigkill(loop)]
