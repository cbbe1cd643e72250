"""The core benchmark produces a markdown section with a row per dimension, backend and mode."""

import pathlib

import numpy as np
from poe_steer_lab.bench.core_bench import BACKENDS, BIG_BATCH, DIMENSIONS, run, SELECTOR_MODES
import torch


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
    assert f'numpy {np.__version__}' in report and f'torch {torch.__version__}' in report
