#!/usr/bin/env python3

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

"""
Add (or, with --check, look for) the Apache-2.0 copyright header in every source file.

The header is the one ament_copyright recognises as the Apache License 2.0 file header, so the
real ament_copyright passes where it is installed. Each package's test_copyright.py runs this
script with --check, which runs ament_copyright where it is installed and otherwise (it has no
PyPI wheel) looks for the header itself. Source files are the ones
ament_copyright checks (``*.py``, ``*.cmake``) plus ``CMakeLists.txt``, found under the given
paths, skipping folders whose name starts with '.' or '_' and colcon's build spaces.

Adding is idempotent: a file whose leading comment block already names a copyright is left
alone. The header goes after a shebang or coding line, followed by one empty line.

    scripts/add_copyright_headers.py                 # add to every source file of the repo
    scripts/add_copyright_headers.py --check PATH..  # list files without it; exit 1 if any
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys
from typing import Iterator, Sequence

from source_tree import files_under

ROOT = pathlib.Path(__file__).resolve().parent.parent
COPYRIGHT = 'Copyright 2026 poe_steer_ros contributors'
LICENSE_NOTICE = """\
Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
"""
HEADER = ''.join(f'# {line}'.rstrip() + '\n'
                 for line in (COPYRIGHT, '', *LICENSE_NOTICE.splitlines()))
"""The header as '#' comment lines (no trailing empty line)."""
SUFFIXES = ('.py', '.cmake')
NAMES = ('CMakeLists.txt',)
_COPYRIGHT_LINE = re.compile(r'^#\s*copyright(?:\s+\(c\))?\s+\d{4}', re.IGNORECASE)


def source_files(paths: Sequence[pathlib.Path]) -> Iterator[pathlib.Path]:
    """Yield the source files under ``paths`` (files given directly are taken as they are)."""
    return files_under(paths, lambda path: path.name.endswith(SUFFIXES) or path.name in NAMES)


def _preamble_end(lines: list[str]) -> int:
    """Return the index of the first line after a shebang and a coding line."""
    index = 0
    while index < len(lines) and lines[index].startswith('#') and (
            lines[index].startswith('#!') or 'coding:' in lines[index]
            or 'coding=' in lines[index]):
        index += 1
    return index


def _leading_comment(lines: list[str]) -> list[str]:
    """Return the comment lines that open the file after its preamble and empty lines."""
    index = _preamble_end(lines)
    while index < len(lines) and not lines[index].strip():
        index += 1
    block = []
    while index < len(lines) and lines[index].startswith('#'):
        block.append(lines[index])
        index += 1
    return block


def has_header(text: str) -> bool:
    """Return whether the leading comment block names a copyright and the Apache-2.0 notice."""
    block = _leading_comment(text.splitlines())
    words = ' '.join(line.lstrip('#') for line in block).split()
    return (any(_COPYRIGHT_LINE.match(line) for line in block)
            and ' '.join(LICENSE_NOTICE.split()) in ' '.join(words))


def add_header(path: pathlib.Path) -> bool:
    """Add the header to ``path`` unless it already names a copyright; return whether it did."""
    text = path.read_text(encoding='utf-8')
    lines = text.splitlines(keepends=True)
    if not text.strip() or any(_COPYRIGHT_LINE.match(line)
                               for line in _leading_comment(text.splitlines())):
        return False
    start = _preamble_end(lines)
    end = start
    while end < len(lines) and not lines[end].strip():
        end += 1
    before = ''.join(lines[:start]) + ('\n' if start else '')
    path.write_text(before + HEADER + '\n' + ''.join(lines[end:]), encoding='utf-8')
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Add headers, or with --check report the files without one."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].strip())
    parser.add_argument('paths', nargs='*', type=pathlib.Path, default=[ROOT],
                        help='files or folders (default: the repository)')
    parser.add_argument('--check', action='store_true',
                        help='change nothing; list the files without the header')
    args = parser.parse_args(argv)
    if args.check:
        try:
            from ament_copyright.main import main as ament_copyright
        except ImportError:
            pass
        else:
            return int(ament_copyright([str(path) for path in args.paths]))
    files = list(source_files(args.paths))
    if args.check:
        texts = {path: path.read_text(encoding='utf-8') for path in files}
        missing = [path for path, text in texts.items() if text.strip() and not has_header(text)]
        for path in missing:
            print(f'{path}: no Apache-2.0 copyright header', file=sys.stderr)
        print(f'{len(missing)} of {len(files)} source files lack the header')
        return 1 if missing else 0
    added = [path for path in files if add_header(path)]
    for path in added:
        print(f'added: {path}')
    print(f'added the header to {len(added)} of {len(files)} source files')
    return 0


if __name__ == '__main__':
    sys.exit(main())
