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

"""Run every benchmark and write one markdown report (``make bench`` -> docs/benchmarks.md)."""

from __future__ import annotations

import datetime
from pathlib import Path
import re
import time
from typing import Callable, Sequence

from poe_steer_lab.bench import actor_bench, core_bench, dds_bench, sim_bench, startup_bench
from poe_steer_lab.bench.machine import machine_footer

BENCHMARKS: tuple[tuple[str, Callable[..., str]], ...] = (
    ('core', core_bench.run),
    ('actor', actor_bench.run),
    ('scan features and support model', actor_bench.perception_run),
    ('simulation', sim_bench.run),
    ('control tick through DDS', dds_bench.run),
    ('startup', startup_bench.run),
)
"""Each entry's ``run(quick, out_dir)`` returns a markdown section and may write PNGs."""


def without_footer(report: str) -> str:
    """Return ``report`` without its closing "Machine:" paragraph, if it has one."""
    body, _, last = report.rstrip('\n').rpartition('\n\n')
    return body + '\n' if last.startswith('Machine: ') else report


def replace_sections(report: str, sections: Sequence[str]) -> str:
    """Return ``report`` with each section's ``## `` heading block replaced (appended if new)."""
    for section in sections:
        heading = section.split('\n', 1)[0]
        pattern = re.compile(rf'^{re.escape(heading)}\n.*?(?=^## |\Z)', re.M | re.S)
        if pattern.search(report):
            report = pattern.sub(lambda _: section.rstrip('\n') + '\n\n', report, count=1)
        else:
            report = report.rstrip('\n') + '\n\n' + section + '\n'
    return report.rstrip('\n') + '\n'


def write_report(out_dir: Path, quick: bool = False, only: Sequence[str] = ()) -> Path:
    """
    Run the benchmarks; write ``benchmarks.md`` and plots into ``out_dir``; return the path.

    :param only: names of ``BENCHMARKS`` to run; their sections replace the ones of an existing
        report, the others stay as they were measured. Empty: run all, write a new report.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    unknown = set(only) - {name for name, _ in BENCHMARKS}
    if unknown:
        raise ValueError(f'only: {sorted(unknown)} are not among {[n for n, _ in BENCHMARKS]}')
    sections = []
    for name, run in BENCHMARKS:
        if only and name not in only:
            continue
        start = time.perf_counter()
        print(f'[bench] {name} ...', flush=True)
        sections.append(run(quick=quick, out_dir=out_dir))
        print(f'[bench] {name} done in {time.perf_counter() - start:.1f} s', flush=True)
    path = out_dir / 'benchmarks.md'
    if only and path.is_file():
        kept = without_footer(path.read_text())
        path.write_text(replace_sections(kept, sections) + '\n' + machine_footer() + '\n')
        return path
    path.write_text(
        '# Benchmarks\n\n'
        f'Written by `make bench` (`python -m poe_steer_lab.cli bench`) on '
        f'{datetime.date.today().isoformat()}{" in quick mode (not for quoting)" if quick else ""}'
        '. Absolute times on shared machines are noisy: quote medians and ratios measured in '
        'one run.\n\n' + '\n\n'.join(sections) + '\n\n' + machine_footer() + '\n')
    return path
