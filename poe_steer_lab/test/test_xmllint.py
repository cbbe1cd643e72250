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

"""Lint gate: the package's XML files are well-formed and valid where a schema is at hand."""

import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.linter
@pytest.mark.xmllint
def test_xmllint() -> None:
    # ament_xmllint where installed with xmllint, else an offline equivalent (it has no wheel).
    rc = subprocess.call([sys.executable, str(PACKAGE.parent / 'scripts' / 'check_xml.py'),
                          str(PACKAGE)])
    assert rc == 0, 'Found invalid XML files'
