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

"""The simulation benchmark produces a markdown section with a filled table."""

from poe_steer_lab.bench.sim_bench import run


def test_quick_run_reports_every_environment(tmp_path) -> None:
    report = run(quick=True, out_dir=tmp_path)
    assert report.startswith('## Simulation throughput')
    rows = [line for line in report.splitlines()
            if line.startswith('| ') and not line.startswith('| what')]
    assert len(rows) == 3
    for row in rows:
        cells = [cell.strip() for cell in row.strip('|').split('|')]
        assert float(cells[2].replace(',', '')) > 0, row
    assert 'Machine:' not in report, 'the one footer of the report names the machine'
