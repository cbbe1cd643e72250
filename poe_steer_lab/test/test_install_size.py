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

"""install_size reads what a requirements file pulls in from the installed distributions."""

from poe_steer_lab.bench.install_size import closure, main, read_requirements
import pytest


@pytest.fixture
def requirements(tmp_path):
    included = tmp_path / 'included.txt'
    included.write_text('pytest>=7  # a comment\n')
    top = tmp_path / 'top.txt'
    top.write_text('# robots\n-r included.txt\n--index-url https://example.invalid\npyyaml\n')
    return top


def test_includes_are_followed_and_options_skipped(requirements):
    assert [r.name for r in read_requirements(requirements)] == ['pytest', 'pyyaml']


def test_the_closure_holds_dependencies_with_their_sizes(requirements):
    installed = {item.name: item for item in closure(read_requirements(requirements))}
    assert {'pytest', 'pyyaml', 'pluggy', 'iniconfig'} <= set(installed)
    assert all(item.size_bytes > 0 for item in installed.values())


def test_a_refused_distribution_fails(requirements, capsys):
    assert main([str(requirements)]) == 0
    assert 'pytest' in capsys.readouterr().out
    assert main([str(requirements), '--refuse', 'PyTest']) == 1
    assert main([str(requirements), '--numpy', '0.0.1']) == 1
