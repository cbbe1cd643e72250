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

"""The start-up benchmark runs end to end in quick mode (no timing assertion)."""

import os
import pathlib
import subprocess
import sys

from poe_steer_lab.bench.startup_bench import hidden, LAB_ONLY, ROBOT_NUMBA_ROW, ROBOT_ROW, run
import pytest

pytestmark = pytest.mark.ros
ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_hidden_packages_do_not_import_in_started_processes():
    with hidden(LAB_ONLY):
        result = subprocess.run([sys.executable, '-c', 'import scipy'], capture_output=True,
                                text=True, timeout=60, env=dict(os.environ))
    assert result.returncode != 0 and 'hidden' in result.stderr
    assert subprocess.run([sys.executable, '-c', 'import numpy'], timeout=60).returncode == 0


def test_quick_run_reports_every_row_and_the_install_size():
    report = run(quick=True, requirements=ROOT / 'requirements-robot.txt')
    rows = [line for line in report.splitlines() if line.startswith(('| this venv', '| robot'))]
    labels = [row.split('|')[1].strip() for row in rows]
    assert labels == ['this venv', ROBOT_ROW, ROBOT_NUMBA_ROW]
    for row in rows:
        assert float(row.split('|')[2]) > 0.0, row
    assert 'install size of `requirements-robot.txt`' in report and 'onnxruntime' in report
    assert 'the optional numba adds' in report and 'llvmlite' in report
