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

"""``mypy --strict`` over the runtime (setup.cfg): ``make lint`` cannot silently regress."""

from __future__ import annotations

import importlib.util
from pathlib import Path
import subprocess
import sys

import pytest
from rclpy.node import Node

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
RCLPY_ANNOTATED = 'return' in Node.get_logger.__annotations__
"""Kilted's rclpy annotates its API; Jazzy's (7.x) leaves most of it untyped, which --strict
flags at every call."""


@pytest.mark.linter
@pytest.mark.skipif(importlib.util.find_spec('mypy') is None,
                    reason='mypy is not installed here (requirements-dev.txt has it)')
@pytest.mark.skipif(not RCLPY_ANNOTATED,
                    reason="this rclpy leaves its API unannotated (Jazzy's 7.x): mypy --strict "
                    "checks the runtime against Kilted's")
def test_mypy_strict() -> None:
    result = subprocess.run([sys.executable, '-m', 'mypy', 'poe_steer_ros'], cwd=PACKAGE_ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
