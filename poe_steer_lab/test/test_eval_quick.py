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

"""``poe-steer eval --quick``: actors trained, every table and plot of the report written."""

import pathlib

from poe_steer_lab import cli
from poe_steer_lab.eval.actors import default_actors, prepare_actors
from poe_steer_lab.eval.report import PLOTS, REPORT_FILE
import pytest

SECTIONS = (
    '# Evaluation',
    '## Actors and priors',
    '## Where our results agree or disagree with the paper',
    '## Grid: every rule against the frozen actor',
    '### competent actor', '### medium actor', '### poor actor',
    '## Verdict counts per rule',
    '## KL-budget selector against the best alpha in hindsight',
    '## Prior noise sweep (shift 0)',
    '## Objective shift sweep (oracle prior)',
    '## PoE and KL-reg at matched alpha / beta',
    '## Exact configuration',
)
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    """Run the CLI's quick mode once (about 20 s on 2 cores): report folder and actor cache."""
    root = tmp_path_factory.mktemp('eval')
    out, cache = root / 'report', root / 'actors'
    code = cli.main(['eval', '--quick', '--out', str(out), '--cache', str(cache),
                     '--competent', str(root / 'absent.pt.yaml')])
    assert code == cli.EXIT_OK
    return out, cache


def test_quick_mode_writes_every_section_with_a_table(quick_run):
    out, _ = quick_run
    text = (out / REPORT_FILE).read_text(encoding='utf-8')
    for heading in SECTIONS:
        assert heading in text, f'missing section {heading!r}'
    sections = text.split('\n## ')[1:]
    for section in sections:
        title = section.splitlines()[0]
        if title != 'Exact configuration':
            assert '\n|---' in section, f'section {title!r} has no table'
    assert 'Quick mode' in text and 'python -m poe_steer_lab.cli eval --quick' in text


def test_quick_mode_checks_every_paper_finding(quick_run):
    out, _ = quick_run
    text = (out / REPORT_FILE).read_text(encoding='utf-8')
    findings = text.split('## Where our results agree')[1].split('\n## ')[0]
    rows = [line for line in findings.splitlines() if line.startswith('| ') and
            not line.startswith('| paper')]
    assert len(rows) == 8
    assert all(any(word in row for word in ('agrees', 'partly', 'disagrees', 'not tested'))
               for row in rows)


def test_quick_mode_draws_both_plots(quick_run):
    out, _ = quick_run
    text = (out / REPORT_FILE).read_text(encoding='utf-8')
    for name in PLOTS:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 20_000, f'{name} is not a real plot'
        assert f']({name})' in text, f'{name} is not linked from the report'


def test_cached_actors_are_reused(quick_run):
    _, cache = quick_run
    manifests = {path: path.stat().st_mtime_ns for path in cache.glob('*/*.pt.yaml')}
    assert len(manifests) == 3
    again = prepare_actors(default_actors(quick=True), cache)
    assert {pathlib.Path(path): path.stat().st_mtime_ns for path in again.values()} == manifests
