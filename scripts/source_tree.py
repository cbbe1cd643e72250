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
