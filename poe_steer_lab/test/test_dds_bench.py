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
