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

"""The actor latency benchmark produces a markdown section with a row per format and device."""

import pathlib

from poe_steer_lab.bench.actor_bench import perception_run, run


def test_quick_run_reports_every_format(tmp_path: pathlib.Path) -> None:
    report = run(quick=True, out_dir=tmp_path)
    assert report.startswith('## Frozen-actor forward latency')
    rows = [line for line in report.splitlines()
            if line.startswith('| ') and not line.startswith('| format')]
    assert {row.split('|')[1].split()[0] for row in rows} == {
        'torchscript', 'onnx', 'state_dict', 'd3rlpy'}
    assert len(rows) == 5 * (2 if '| cuda |' in report else 1)
    for row in rows:
        cells = [cell.strip() for cell in row.strip('|').split('|')]
        assert all(float(cell) > 0 for cell in cells[2:]), row
    assert (tmp_path / 'actor_latency.png').stat().st_size > 0


def test_perception_run_times_scan_features_and_the_support_model() -> None:
    report = perception_run(quick=True)
    assert report.startswith('## What an actor that sees adds per tick')
    rows = [line for line in report.splitlines()
            if line.startswith('| ') and not line.startswith('| step')]
    assert [row.split('|')[1].split()[0] for row in rows] == ['scan', 'support', 'both:']
    for row in rows:
        assert all(float(cell) > 0 for cell in row.strip('|').split('|')[1:]), row
