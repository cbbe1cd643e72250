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

"""The tick benchmark through DDS runs end to end in quick mode (no timing assertion)."""

import pathlib

from poe_steer_lab.bench.dds_bench import CASES, RATES_HZ, run
import pytest

pytestmark = pytest.mark.ros


def test_quick_run_measures_every_case_at_every_rate(tmp_path: pathlib.Path) -> None:
    report = run(quick=True, out_dir=tmp_path)
    labels = tuple(f'| {case.label} |' for case in CASES)
    rows = [line for line in report.splitlines() if line.startswith(labels)]
    assert len(rows) == len(CASES) * len(RATES_HZ)
    for row in rows:
        cells = [cell.strip() for cell in row.strip('|').split('|')]
        answered, missed = int(cells[5]), int(cells[6])
        assert answered > 0 and missed >= 0, row
        if not row.startswith('| (a)'):
            assert float(cells[7]) > 0.0, f'no tick work from ~/status: {row}'
    assert '(c)/(a) poe / relay' in report and '(c)/(b) poe / frozen' in report
    assert 'steering overhead' in report and 'first command <= 1 s' in report
    assert (tmp_path / 'tick_latency.png').stat().st_size > 0
