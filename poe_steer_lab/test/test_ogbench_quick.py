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

"""``poe-steer-lab ogbench --quick``: dataset, actors, protocol and every table of the report."""

from poe_steer_lab import cli
from poe_steer_lab.ogbench.harness import REPORT_FILE
import pytest

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    """Run the CLI's quick mode on the medium maze, goals 1 and 2 (tens of seconds)."""
    root = tmp_path_factory.mktemp('ogbench')
    out = root / 'report'
    code = cli.main(['ogbench', '--quick', '--maze', 'medium', '--goals', '1', '2', '--out',
                     str(out), '--cache', str(root / 'cache')])
    assert code == cli.EXIT_OK
    return out


def test_quick_mode_writes_every_table_and_plot(quick_run):
    text = (quick_run / REPORT_FILE).read_text(encoding='utf-8')
    for heading in ('## Datasets', "## What differs from the paper's D4RL setting",
                    '## PointMaze medium', '### Where our results agree or disagree',
                    '### Grid: every rule against the frozen actor',
                    '### KL-budget selector against the best alpha in hindsight',
                    '### Prior noise sweep', '### Objective shift sweep'):
        assert heading in text, f'missing section {heading!r}'
    assert 'Quick mode' in text and '--maze medium --goals 1 2' in text
    for plot in ('ogbench_medium_return_vs_shift.png', 'ogbench_medium_return_vs_noise.png'):
        assert (quick_run / plot).read_bytes().startswith(PNG_MAGIC)
