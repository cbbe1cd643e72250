"""The start-up benchmark runs end to end in quick mode (no timing assertion)."""

import os
import pathlib
import subprocess
import sys

from poe_steer_lab.bench.startup_bench import hidden, LAB_ONLY, ROBOT_ROW, run
import pytest

pytestmark = pytest.mark.ros
ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_hidden_packages_do_not_import_in_started_processes():
    with hidden(LAB_ONLY):
        result = subprocess.run([sys.executable, '-c', 'import scipy'], capture_output=True,
                                text=True, timeout=60, env=dict(os.environ))
    assert result.returncode != 0 and 'hidden' in result.stderr
    assert subprocess.run([sys.executable, '-c', 'import numpy'], timeout=60).returncode == 0


def test_quick_run_reports_both_rows_and_the_install_size():
    report = run(quick=True, requirements=ROOT / 'requirements-robot.txt')
    rows = [line for line in report.splitlines() if line.startswith(('| this venv', '| robot'))]
    assert [row.split('|')[1].strip() for row in rows] == ['this venv', ROBOT_ROW]
    for row in rows:
        assert float(row.split('|')[2]) > 0.0, row
    assert 'install size of `requirements-robot.txt`' in report and 'onnxruntime' in report
