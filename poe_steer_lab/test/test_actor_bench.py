"""The actor latency benchmark produces a markdown section with a row per format and device."""

import pathlib

from poe_steer_lab.bench.actor_bench import run


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
    assert 'Machine:' not in report, 'the one footer of the report names the machine'
