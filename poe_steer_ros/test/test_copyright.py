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
