"""``bench --only`` replaces the sections it measured and keeps the others as they were."""

from poe_steer_lab.bench.report import replace_sections, write_report
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
