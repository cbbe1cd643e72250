"""Run every benchmark and write one markdown report (``make bench`` -> docs/benchmarks.md)."""

from __future__ import annotations

import datetime
from pathlib import Path
import time
from typing import Callable

from poe_steer_lab.bench import actor_bench, core_bench, dds_bench, sim_bench
from poe_steer_lab.bench.machine import machine_footer

BENCHMARKS: tuple[tuple[str, Callable[..., str]], ...] = (
    ('core', core_bench.run),
    ('actor', actor_bench.run),
    ('simulation', sim_bench.run),
    ('control tick through DDS', dds_bench.run),
)
"""Each entry's ``run(quick, out_dir)`` returns a markdown section and may write PNGs."""


def write_report(out_dir: Path, quick: bool = False) -> Path:
    """Run the benchmarks; write ``benchmarks.md`` and plots into ``out_dir``; return the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = []
    for name, run in BENCHMARKS:
        start = time.perf_counter()
        print(f'[bench] {name} ...', flush=True)
        sections.append(run(quick=quick, out_dir=out_dir))
        print(f'[bench] {name} done in {time.perf_counter() - start:.1f} s', flush=True)
    path = out_dir / 'benchmarks.md'
    path.write_text(
        '# Benchmarks\n\n'
        f'Written by `make bench` (`python -m poe_steer_lab.cli bench`) on '
        f'{datetime.date.today().isoformat()}{" in quick mode (not for quoting)" if quick else ""}'
        '. Absolute times on shared machines are noisy: quote medians and ratios measured in '
        'one run.\n\n' + '\n\n'.join(sections) + '\n' + machine_footer() + '\n')
    return path
