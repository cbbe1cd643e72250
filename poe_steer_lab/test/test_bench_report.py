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

"""``bench --only`` replaces the sections it measured and keeps the others as they were."""

from poe_steer_lab.bench.report import replace_sections, without_footer, write_report
import pytest

REPORT = '# Benchmarks\n\nMachine: x.\n\n## Core\n\nold core\n\n## Start-up\n\nold start\n'


def test_a_measured_section_replaces_its_namesake_only():
    report = replace_sections(REPORT, ['## Start-up\n\nnew start'])
    assert report == '# Benchmarks\n\nMachine: x.\n\n## Core\n\nold core\n\n## Start-up\n\n' \
        'new start\n'
    assert replace_sections(REPORT, ['## Core\n\nnew core\n']).count('## Start-up\n\nold start')


def test_a_new_section_is_appended():
    assert replace_sections(REPORT, ['## Other\n\nx']).endswith('old start\n\n## Other\n\nx\n')


def test_an_unknown_benchmark_is_refused(tmp_path):
    with pytest.raises(ValueError, match='nonsense'):
        write_report(tmp_path, only=['nonsense'])


def test_a_partial_run_keeps_one_machine_footer_at_the_end():
    report = REPORT + '\nMachine: old.\n'
    kept = without_footer(report)
    assert kept == REPORT
    assert without_footer(REPORT) == REPORT, 'a report without a footer is kept whole'
    rerun = replace_sections(kept, ['## Start-up\n\nnew start']) + '\nMachine: new.\n'
    assert rerun.count('Machine: ') == 2 and rerun.endswith('new start\n\nMachine: new.\n')
