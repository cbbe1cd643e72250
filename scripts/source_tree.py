"""The files of a source tree the repository's checks look at (shared by the scripts here)."""

from __future__ import annotations

import pathlib
from typing import Callable, Iterator, Sequence

SKIPPED_FOLDERS = ('build', 'install', 'log')
"""colcon's spaces (also with a distribution suffix, as ``build-jazzy``); folders whose name
starts with '.' or '_' are skipped too, as ament does."""


def files_under(paths: Sequence[pathlib.Path],
                wanted: Callable[[pathlib.Path], bool]) -> Iterator[pathlib.Path]:
    """Yield the ``wanted`` files under ``paths`` in name order; files given are yielded as is."""
    for path in paths:
        if path.is_file():
            yield path
            continue
        for child in sorted(path.iterdir()):
            if child.is_dir():
                if not child.name.startswith(('.', '_')) and child.name.split('-')[0] not in (
                        SKIPPED_FOLDERS):
                    yield from files_under([child], wanted)
            elif wanted(child):
                yield child
