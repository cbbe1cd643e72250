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
