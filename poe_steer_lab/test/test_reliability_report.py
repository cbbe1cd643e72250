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

"""The reliability report: its verdicts follow the figures, and the CLI knows the campaign."""

from __future__ import annotations

import collections
import dataclasses

from poe_steer_lab.cli import build_parser
from poe_steer_lab.reliability.faults import FaultResult
from poe_steer_lab.reliability.fuzz import FuzzResult
from poe_steer_lab.reliability.harness import (ParameterAudit, ParameterCounts, ProcessOutcome,
                                               SafetyTally)
from poe_steer_lab.reliability.report import Campaign, FULL, render
from poe_steer_lab.reliability.shutdown import ShutdownResult
from poe_steer_lab.reliability.soak import SoakResult

CLEAN_EXIT = ProcessOutcome(alive_throughout=True, exit_code=0, traceback=False)


def campaign(tally: SafetyTally | None = None) -> Campaign:
    """Return a campaign whose figures are made up: 4000 messages, 400 requests, one soak."""
    fuzz = [FuzzResult(
        label=f'fuzz_{index}', sent=collections.Counter(state=1500, goal_prior=500),
        parameters=ParameterCounts(requests=200, entries=300, accepted=40,
                                   names=collections.Counter({'goal': 300})),
        tally=tally or SafetyTally(commands=900, steered=800, rate_checked=700),
        audit=ParameterAudit(300, 40, 260, {'goal': 300}),
        diagnostics={'states_rejected': '600', 'priors_rejected': '300', 'tick_errors': '2'},
        goal_kept=True, log_forgery_refused=True, outcome=CLEAN_EXIT) for index in range(2)]
    soak = SoakResult(1000.0, 120.0, 10.0, sent=119000, answered=118000, answers_after_stop=2,
                      memory=[(float(t), 270.0) for t in range(1, 120)],
                      latencies=[(t / 1000.0, 0.0007) for t in range(120000)],
                      tally=SafetyTally(commands=118000), outcome=CLEAN_EXIT)
    faults = [FaultResult('steering node killed with SIGKILL', True,
                          {'base stopped after (sim s)': '0.7'})]
    return Campaign(FULL, fuzz, soak, faults, ShutdownResult(100, 100, 100, 100),
                    ShutdownResult(14, 14, 14, 14), wall_s=420.0)


def test_a_clean_campaign_passes_and_reports_its_counts() -> None:
    clean = campaign()
    assert clean.passed
    text = render(clean, plot=True)
    assert '**4000 messages and 400 parameter requests**' in text
    assert '**NO**' not in text and 'reliability_soak.png' in text
    assert '**+0.000 MiB/min**' in text and 'steering node killed with SIGKILL | yes' in text


def test_one_out_of_bounds_command_fails_the_campaign() -> None:
    broken = campaign(SafetyTally(commands=900, steered=800, out_of_bounds=1,
                                  examples=['command [0.9, 0.0] outside']))
    assert not broken.passed
    text = render(broken, plot=False)
    assert '| no NaN or out-of-bounds command | **NO** |' in text
    assert '- command [0.9, 0.0] outside' in text


def test_a_failed_fault_fails_the_campaign_and_shows_its_detail() -> None:
    failed = dataclasses.replace(campaign(), faults=[FaultResult(
        'state stream pauses and resumes', False, {}, detail='failed: went stale')])
    assert not failed.passed
    assert '### state stream pauses and resumes: did not pass' in render(failed, plot=False)


def test_one_shutdown_without_the_zero_command_fails_the_campaign() -> None:
    failed = dataclasses.replace(campaign(), shutdown=ShutdownResult(
        100, 99, 100, 100, ['shutdown_7: exit 0, zero last False']))
    assert not failed.passed
    text = render(failed, plot=False)
    assert '| stop while moving: 100 | 99 | 100 | 100 |' in text
    assert 'shutdown_7: exit 0, zero last False' in text


def test_the_cli_runs_the_campaign() -> None:
    args = build_parser().parse_args(['reliability', '--quick', '--out', 'somewhere'])
    assert args.quick and str(args.out) == 'somewhere' and args.handler.__name__ == '_reliability'
