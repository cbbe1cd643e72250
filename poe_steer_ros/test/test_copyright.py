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

"""Lint gate: every source file carries the Apache-2.0 copyright and license header."""

import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright() -> None:
    # ament_copyright where installed, else the same check (it has no wheel).
    script = PACKAGE.parent / 'scripts' / 'add_copyright_headers.py'
    rc = subprocess.call([sys.executable, str(script), '--check', str(PACKAGE)])
    assert rc == 0, 'Found files without the copyright header (scripts/add_copyright_headers.py)'
