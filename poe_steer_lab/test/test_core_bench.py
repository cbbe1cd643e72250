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

"""The core benchmark produces a markdown section with a row per dimension, backend and mode."""

import pathlib

from poe_steer_lab.bench.core_bench import BACKENDS, BIG_BATCH, DIMENSIONS, run, SELECTOR_MODES


def test_quick_run_reports_every_case(tmp_path: pathlib.Path) -> None:
    report = run(quick=True, out_dir=tmp_path)
    assert report.startswith('## Steering core: compose + select + squash + clamp')
    rows = [line for line in report.splitlines()
            if line.startswith('| ') and not line.startswith('| d ')]
    batches = sum(len(sizes) for sizes in BACKENDS.values())
    assert len(rows) == len(DIMENSIONS) * batches * len(SELECTOR_MODES)
    cases = set()
    for row in rows:
        cells = [cell.strip() for cell in row.strip('|').split('|')]
        cases.add((int(cells[0]), cells[1], int(cells[2]), cells[3]))
        assert all(float(cell) > 0 for cell in cells[4:7]), row
        bound = float(cells[7].rstrip('%'))
        assert bound == 0.0 if cells[3] != 'on, binding' else bound > 0.0, row
    assert {case[2] for case in cases} == {1, BIG_BATCH}
    assert {case[1] for case in cases} == set(BACKENDS)
    assert (tmp_path / 'core_latency.png').stat().st_size > 0
    assert 'Machine:' not in report, 'the one footer of the report names the machine'
