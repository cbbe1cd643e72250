"""Lint gate: the package's XML files are well-formed and valid where a schema is at hand."""

import pathlib
import shutil
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.linter
@pytest.mark.xmllint
def test_xmllint() -> None:
    try:
        from ament_xmllint.main import main
    except ImportError:
        main = None
    if main is not None and shutil.which('xmllint'):
        rc = main(argv=[str(PACKAGE)])
    else:  # No wheel of ament_xmllint: the repository's offline equivalent.
        script = PACKAGE.parent / 'scripts' / 'check_xml.py'
        rc = subprocess.call([sys.executable, str(script), str(PACKAGE)])
    assert rc == 0, 'Found invalid XML files'
