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
The whole reliability campaign in one call: ``make reliability`` -> docs/reliability.md.

Fuzzing (three nodes, one per state message type), a soak at 1 kHz, and every fault, each
against real node processes in a DDS domain of their own; the figures go into one markdown
report with a plot of memory and latency over the soak.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
import time
from typing import Sequence

import hypothesis
import numpy as np
from poe_steer_lab.bench.machine import machine_facts
from poe_steer_lab.reliability import faults, fuzz, shutdown, soak
from poe_steer_lab.reliability.actors import FixtureKind
from poe_steer_lab.reliability.harness import isolate_ros_graph
from poe_steer_ros.ros.steer_node import SHUTDOWN_ACK_TIMEOUT_S

COMMAND = 'make reliability  # = python -m poe_steer_lab.cli reliability'
SOAK_PLOT = 'reliability_soak.png'


@dataclasses.dataclass(frozen=True)
class Plan:
    """How much of everything one campaign runs."""

    fuzz: dict[FixtureKind, tuple[int, int]]
    """(messages, parameter requests) per node."""
    soak_s: float
    soak_rate_hz: float
    storm_requests: int
    shutdown_runs: int
    startup_delays_s: tuple[float, ...]


FULL = Plan({FixtureKind.BASE: (5000, 600), FixtureKind.JOINT: (3000, 250),
             FixtureKind.ARRAY: (2000, 200)}, soak_s=120.0, soak_rate_hz=1000.0,
            storm_requests=1000, shutdown_runs=100, startup_delays_s=shutdown.STARTUP_DELAYS_S)
"""
The issues' counts: >= 10,000 messages, >= 1,000 parameter sets, 120 s at 1 kHz, 100 stops.
"""
QUICK = Plan({kind: (200, 50) for kind in FixtureKind}, soak_s=5.0, soak_rate_hz=1000.0,
             storm_requests=50, shutdown_runs=3, startup_delays_s=(0.6,))
"""Proves every section is written; the figures mean little."""


@dataclasses.dataclass(frozen=True)
class Campaign:
    """Everything one campaign measured."""

    plan: Plan
    fuzz: Sequence[fuzz.FuzzResult]
    soak: soak.SoakResult
    faults: Sequence[faults.FaultResult]
    shutdown: shutdown.ShutdownResult
    startup: shutdown.ShutdownResult
    wall_s: float

    def guarantees(self) -> list[tuple[str, bool]]:
        """Return each guarantee of the issue with whether it held throughout."""
        tallies = [result.tally for result in self.fuzz] + [self.soak.tally]
        outcomes = [result.outcome for result in self.fuzz] + [self.soak.outcome]
        return [
            ('no NaN or out-of-bounds command', all(
                tally.non_finite + tally.out_of_bounds == 0 for tally in tallies)),
            ('no crash', not any(outcome.crashed for outcome in outcomes)),
            ('configured goal never lost', all(
                result.goal_kept and result.tally.goal_lost == 0 for result in self.fuzz)),
            ('no live change beyond the certified envelope (alpha_max, rate limits)', all(
                tally.alpha_exceeded + tally.rate_exceeded == 0 for tally in tallies)),
            ('every parameter attempt answered and logged, no forged log line', all(
                result.unaudited + result.parameters.unanswered == 0
                and result.log_forgery_refused for result in self.fuzz)),
            ('every fault handled', all(result.passed for result in self.faults)),
            ('zero command delivered at every shutdown; signals at start-up exit 0 quietly',
             self.shutdown.passed and self.startup.passed),
        ]

    @property
    def passed(self) -> bool:
        """Return whether every guarantee held."""
        return all(held for _, held in self.guarantees())


def run_campaign(plan: Plan, log_dir: Path) -> Campaign:
    """Run fuzzing, the soak and the faults as ``plan`` says; node logs go to ``log_dir``."""
    start_s = time.monotonic()
    fuzz_results = [fuzz.fuzz_node(kind, messages, requests, log_dir / 'fuzz')
                    for kind, (messages, requests) in plan.fuzz.items()]
    print(f'[reliability] fuzzing done in {time.monotonic() - start_s:.0f} s', flush=True)
    soak_result = soak.soak(plan.soak_s, plan.soak_rate_hz, log_dir / 'soak')
    print(f'[reliability] soak done in {time.monotonic() - start_s:.0f} s', flush=True)
    fault_results = [*faults.node_faults(log_dir / 'faults'),
                     *faults.closed_loop_faults(log_dir / 'closed_loop', plan.storm_requests)]
    print(f'[reliability] faults done in {time.monotonic() - start_s:.0f} s', flush=True)
    stops = shutdown.shutdown_runs(plan.shutdown_runs, log_dir / 'shutdown')
    startups = shutdown.startup_signal_runs(plan.startup_delays_s, log_dir / 'startup')
    print(f'[reliability] shutdown runs done in {time.monotonic() - start_s:.0f} s', flush=True)
    return Campaign(plan, fuzz_results, soak_result, fault_results, stops, startups,
                    time.monotonic() - start_s)


def _yes(flag: bool) -> str:
    return 'yes' if flag else '**NO**'


def _fuzz_section(results: Sequence[fuzz.FuzzResult]) -> list[str]:
    messages = sum(result.messages for result in results)
    requests = sum(result.parameters.requests for result in results)
    lines = [
        '## Fuzzing', '',
        f'Hypothesis {hypothesis.__version__} draws the inputs (generation only: no shrinking, '
        f'seed {fuzz.SEED}, so a rerun draws the same stream). Each node steers on a good state '
        f'stream ({fuzz.GOOD_STATE_RATE_HZ:g} Hz) while fuzzed messages arrive at up to '
        f'{fuzz.MESSAGE_RATE_HZ:g} per second on `state`, `goal_prior` and (mobile base) '
        '`goal_pose`: NaN, infinities, 1e308 and subnormal values, wrong sizes, unknown, '
        'repeated and missing joint names, stamps anywhere in `builtin_interfaces/Time`, priors '
        'with zero, negative or NaN variance, wrong dimension, unknown space, expired or far '
        'future. Parameter requests are interleaved, up to four in flight (rapid fire during '
        'control), through SetParameters and SetParametersAtomically: wrong types, out of '
        "range, NaN, wrong lengths, read-only names, rclpy's own names, unknown names. Each "
        "node's envelope (`limits.*`) is narrower than its actor's bounds and "
        '`limits.alpha_max` is 0.8.', '',
        f'**{messages} messages and {requests} parameter requests** in total.', '',
        '| node | messages (state / goal_prior / goal_pose) | rejected by the node (states / '
        'priors) | tick errors caught | parameter requests (entries, accepted) | commands '
        'checked | steered ticks | rate-limit pairs checked | non-finite | out of bounds | '
        'too steep | alpha > alpha_max | goal lost | unlogged parameter entries | forged log '
        'line refused | goal kept through invalid goals | crash |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | '
        '--- | --- | --- |']
    for result in results:
        sent, tally, counts = result.sent, result.tally, result.parameters
        diagnostics = result.diagnostics
        lines.append(
            f'| `{result.label}` | {result.messages} ({sent["state"]} / {sent["goal_prior"]} / '
            f'{sent["goal_pose"]}) | {diagnostics.get("states_rejected", "?")} / '
            f'{diagnostics.get("priors_rejected", "?")} | {diagnostics.get("tick_errors", "?")} '
            f'| {counts.requests} ({counts.entries}, {counts.accepted}) | {tally.commands} | '
            f'{tally.steered} | {tally.rate_checked} | {tally.non_finite} | '
            f'{tally.out_of_bounds} | {tally.rate_exceeded} | {tally.alpha_exceeded} | '
            f'{tally.goal_lost} | {result.unaudited} | {_yes(result.log_forgery_refused)} | '
            f'{_yes(result.goal_kept)} | '
            f'{"**yes**" if result.outcome.crashed else "no"} |')
    examples = [example for result in results for example in result.tally.examples]
    if examples:
        lines += ['', 'First violations seen:', '', *(f'- {text}' for text in examples)]
    return lines + [
        '', "Columns: *rejected by the node* are the node's own counters from `/diagnostics`; "
        '*tick errors caught* are ticks whose pipeline raised (e.g. a finite goal so far away '
        'that the prior overflows) and sent the safe command instead. *Too steep*: a step '
        'between consecutive steered ticks larger than `limits.max_rate_per_s` times the time '
        "between them (bounded by the status stamps plus the earlier tick's latency). *Goal "
        'lost*: a status whose goal is empty or non-finite. *Goal kept*: after the stream, a '
        'known goal is set, then NaN/inf/wrongly sized/wrongly typed goals are sent by '
        'parameter, `goal_pose` and `goal_prior`; the goal parameter and the status must still '
        'hold the known goal. *Unlogged parameter entries*: answered parameters without their '
        "`parameter NAME: old -> new accepted|rejected` line in the node's log. *Forged log "
        'line refused*: a parameter named with a newline and a fake audit line is logged on one '
        'line, quoted. *Crash*: the node died, printed a traceback, or did not exit 0 on '
        'SIGINT.']


def _soak_section(result: soak.SoakResult, plot: bool) -> list[str]:
    _, medians, tails = result.latency_windows()
    memory = [rss for _, rss in result.memory]
    halves = result.memory_slope_halves()
    lines = [
        '## Soak', '',
        f'Odometry at {result.rate_hz:g} Hz for {result.duration_s:g} s, stamped with its send '
        'time; the node answers each one (`control.trigger: state`, PoE with a KL budget) with '
        'a TwistStamped carrying that stamp, so latency = receive time - stamp on one clock. '
        f'Resident memory is read from `/proc/<pid>/status` every {soak.WINDOW_S:g} s. Slopes '
        f'are least-squares fits after a {result.warm_up_s:g} s warm-up, over per-window medians '
        'for latency.', '',
        '| figure | value |', '| --- | --- |',
        f'| states sent (achieved rate) | {result.sent} ({result.achieved_rate_hz:.0f} Hz) |',
        f'| answered (dropped by the best-effort state queue) | {result.answered} '
        f'({result.sent - result.answered}) |',
        f'| answers arriving after the stream stopped (backlog) | {result.answers_after_stop} |',
        f'| resident memory first / last (MiB) | {memory[0]:.1f} / {memory[-1]:.1f} |'
        if memory else '| resident memory | no sample |',
        f'| **memory slope** (first half, second half) | '
        f'**{result.memory_slope_mb_per_min():+.3f} MiB/min** ({halves[0]:+.3f}, '
        f'{halves[1]:+.3f}) |',
        f'| latency median / p99 of the windows (ms) | {float(np.median(medians)):.3f} / '
        f'{float(np.median(tails)):.3f} |',
        f'| **latency slope** (median, p99) | **{result.latency_slope_ms_per_min():+.4f}, '
        f'{result.latency_slope_ms_per_min(tail=True):+.4f} ms/min** |',
        f'| commands checked (finite, in bounds) / violations | {result.tally.commands} / '
        f'{result.tally.violations} |',
        f'| crash | {"**yes**" if result.outcome.crashed else "no"} |']
    if plot:
        lines += ['', f'![memory and latency over the soak]({SOAK_PLOT})']
    return lines + [
        '', 'The state subscription is best effort with depth 5 (`qos_profile_sensor_data`): '
        'when the node cannot keep up, DDS drops the oldest states instead of queueing them, '
        'so latency is bounded by that depth; a flat latency and a backlog of at most a few '
        'answers after the stream stops show that no queue grows.']


def _faults_section(results: Sequence[faults.FaultResult]) -> list[str]:
    lines = ['## Faults', '',
             f'Node-only faults drive the node with a fixture actor from this process; '
             'closed-loop faults run the MuJoCo simulator and the node as processes '
             f'(real-time factor {faults.REAL_TIME_FACTOR:g}) with the shipped '
             '`config/steer.yaml` and `config/sim_mujoco.yaml`, heading for a goal with a clear '
             'path.', '', '| fault | passed | measured |', '| --- | --- | --- |']
    for result in results:
        verdict = _yes(result.passed) if result.applicable else 'not applicable'
        measured = '; '.join(f'{key}: {value}' for key, value in result.measured.items())
        lines.append(f'| {result.name} | {verdict} | {measured or result.detail} |')
    failed = [result for result in results if not result.passed]
    for result in failed:
        lines += ['', f'### {result.name}: did not pass', '', '```', result.detail, '```']
    return lines


def _shutdown_section(stops: shutdown.ShutdownResult, startups: shutdown.ShutdownResult,
                      startups_delays: Sequence[float]) -> list[str]:
    lines = ['## Shutdown', '',
             f'{stops.runs} node processes were stopped while commanding a moving base '
             '(SIGINT and SIGTERM alternately, state at 100 Hz, a reliable subscriber on the '
             'command topic): the node publishes the zero command and waits until every '
             f'reliable subscriber has acknowledged it (at most {SHUTDOWN_ACK_TIMEOUT_S:g} s) '
             'before it exits. '
             f'{startups.runs} more were signalled at fixed delays after spawning '
             f'({", ".join(f"{delay:g}" for delay in startups_delays)} s, each signal once), '
             'while they imported their libraries and loaded the actor.', '',
             '| runs | subscriber saw zero last | exit status 0 | no traceback |',
             '| --- | --- | --- | --- |',
             f'| stop while moving: {stops.runs} | {stops.zero_last} | {stops.exit_zero} | '
             f'{stops.quiet} |',
             f'| signal during start-up: {startups.runs} | {startups.zero_last} | '
             f'{startups.exit_zero} | {startups.quiet} |']
    for failure in [*stops.failures, *startups.failures]:
        lines += ['', '```', failure, '```']
    return lines


FINDINGS = [
    '## What this campaign found (fixed in `ros/steer_node.py` and `ros/node_main.py`)', '',
    '- **Crash on a far goal.** A finite goal such as `[3e-124, 1e154]` was accepted; the pose '
    'prior then raised `OverflowError` (`(distance / goal_radius_m) ** 2` in `core/priors.py`), '
    'which the control tick did not catch: the node died. The tick now also catches '
    '`ArithmeticError` and sends the safe command with the reason in `~/status` (counted as '
    '`tick_errors`). The prior itself should not raise (reported to the core).',
    '- **Stale state after the clock jumped back.** On simulated time, a simulator restart sets '
    'the clock back; the last state then had a *negative* age, which passed `age > timeout`, '
    'and the node steered on the pre-restart state until the new clock caught up with the old '
    'one (99 s in the test). A state is now stale unless `0 <= age <= '
    'control.state_timeout_s`, in the tick, the state-triggered watchdog and diagnostics.',
    '- **Unlogged parameter attempts.** A request naming an undeclared parameter was refused by '
    "rclpy before the node's logging ran, so it left no audit line. It is now logged as "
    '`rejected: not a parameter of this node`, with names the node does not own quoted '
    "(`repr`) so that no name can forge a log line; rclpy's own `use_sim_time` is refused "
    'with a reason instead of a bare `KeyError` text.',
    '- **SIGINT could crash a busy node.** `run_node` (`ros/node_main.py`) raised '
    "`KeyboardInterrupt` from the signal handler; under 1 kHz state it landed inside rclpy's "
    'pybind11 message conversion and came out as `RuntimeError: Unable to convert call argument`, '
    'so the node printed a traceback and exited 1 (seen at the end of a soak). The handlers now '
    'only set a flag that the spin loop polls every 0.1 s; the safe command is still sent on '
    'the way out.', '',
    'Observed, not changed: with `prior.type` external (or learned) a goal longer than the '
    'actor observes is accepted and its extra values are ignored; rejected `goal_pose` '
    'messages are logged without throttling.', '',
    '## Closed after an independent adversarial review', '',
    'An outside review found nine ways around the envelope; each was a class of bug, closed '
    'as a class (tests in `poe_steer_ros/test/test_core_guard.py`, `test_core_domain.py` and '
    '`poe_steer_lab/test/test_steer_node_envelope.py`; see [security.md](security.md)):', '',
    '- **One final guard.** Every command, steered or fallback, passes `SafetyEnvelope.clamp` '
    'relative to the last command actually sent and the time it was sent (the safe command '
    'included; before the first command the robot is taken to be at rest), on the smaller '
    'elapsed time of the node clock and a steady clock (a forward clock jump releases no '
    'larger step); a non-finite result holds the last command, flagged. Before, the safe '
    'command was recorded without its time and the first steered tick after it was not '
    'rate-limited (8x the limit on every resume).',
    '- **Overflow-safe bounds.** Scale and offset are `high / 2 -+ low / 2`; manifest bounds '
    'beyond 1e6 are refused (1e308 made the scale inf and the command NaN).',
    '- **The certified bundle.** `actor.bundle_sha256` pins the manifest and its files '
    'together (`poe-steer inspect` prints the hash); `limits.*` are bound to '
    "`limits.action_names`, which must equal the manifest's action names.",
    "- **The effective weight.** `limits.alpha_max` bounds the prior's weight in every "
    'dimension (a prior with std 1e-300 took weight 1 at alpha 0.01), from any source.',
    '- **Bounded liveness settings.** State timeout and stamp tolerance are bounded by '
    'read-only maxima, state is stale by its own stamp, `hold` turns to zero after '
    '`limits.hold_max_s`, a goal prior expires within `limits.goal_prior_max_s` and is ignored '
    'unless `prior.type` is external.',
    '- **Delivered stop.** At shutdown the node sends zero and waits for every reliable '
    'subscriber to acknowledge it; signals during start-up end the process with status 0.',
    '- **Audit.** Superseded values of an atomic request are logged as such, never as '
    'accepted; logged values are cut to 200 characters.',
]


def render(campaign: Campaign, plot: bool) -> str:
    """Return the markdown report of ``campaign``."""
    quick = campaign.plan is QUICK
    summary = ['| guarantee | held |', '| --- | --- |',
               *(f'| {label} | {_yes(held)} |' for label, held in campaign.guarantees())]
    return '\n'.join([
        '# Reliability and security of the steering node', '',
        f'Written by `{COMMAND}` on {datetime.date.today().isoformat()}'
        f'{" in quick mode (not for quoting)" if quick else ""}; wall time '
        f'{campaign.wall_s / 60.0:.1f} min. Machine: {machine_facts()}. Every node is a real '
        'process started as `ros2 launch` starts it (parameter file, namespace remap), driven '
        'over DDS from the campaign process, in a DDS domain of its own on the loopback '
        'interface (`ROS_DOMAIN_ID` 101-200, `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`), with '
        'small hand-set fixture actors (`reliability/actors.py`) so that nothing depends on the '
        'trained default actor. Fast subsets run in `make test` (`test/test_reliability_*.py`). '
        'Deployment hardening (SROS2, domains) is in [security.md](security.md).', '',
        *summary, '',
        *_fuzz_section(campaign.fuzz), '',
        *_soak_section(campaign.soak, plot), '',
        *_faults_section(campaign.faults), '',
        *_shutdown_section(campaign.shutdown, campaign.startup,
                           campaign.plan.startup_delays_s), '',
        *FINDINGS, ''])


def write_report(out_dir: Path, log_dir: Path, quick: bool = False) -> Campaign:
    """
    Run the campaign and write ``reliability.md`` and its soak plot into ``out_dir``.

    :param out_dir: folder of the report (docs/ for ``make reliability``).
    :param log_dir: folder of every node's output and parameter file.
    :param quick: run the small plan (seconds per part) instead of the issue's counts.
    :returns: the campaign, whose ``passed`` says whether every guarantee held.
    """
    log_dir = log_dir.resolve()  # node processes read the files it holds by absolute path
    domain = isolate_ros_graph()
    print(f'[reliability] ROS_DOMAIN_ID {domain}, loopback only; node logs in {log_dir}',
          flush=True)
    campaign = run_campaign(QUICK if quick else FULL, log_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    soak.plot(campaign.soak, out_dir / SOAK_PLOT)
    (out_dir / 'reliability.md').write_text(render(campaign, plot=True))
    return campaign
