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
Line counts per package and the import graph between packages (``make linecount``).

Prints two markdown tables for docs/ARCHITECTURE.md. Lines are counted without the copyright
header. The graph comes from the ``import``
statements of every Python file (parsed, not run), so it also sees imports inside functions.
With --check it exits 1 when a package imports one it may not (the runtime imports only the
messages; the simulation the runtime and the messages; the lab everything).
"""

from __future__ import annotations

import argparse
import ast
import collections
import pathlib
import sys
from typing import Sequence

from add_copyright_headers import HEADER
from source_tree import files_under

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ('poe_steer_msgs', 'poe_steer_ros', 'poe_steer_sim', 'poe_steer_lab')
ALLOWED = {
    'poe_steer_msgs': set(),
    'poe_steer_ros': {'poe_steer_msgs'},
    'poe_steer_sim': {'poe_steer_msgs', 'poe_steer_ros'},
    'poe_steer_lab': {'poe_steer_msgs', 'poe_steer_ros', 'poe_steer_sim'},
}
"""Which packages each package may import."""
NOT_COUNTED = frozenset({'LICENSE', 'CHANGELOG.rst'})
"""Legal text and release notes, which say nothing about the package's size."""


def _files(folder: pathlib.Path) -> list[pathlib.Path]:
    """Return the files under ``folder`` but the licence and the changelog."""
    return list(files_under([folder], lambda path: path.name not in NOT_COUNTED))


def _kind(package: str, path: pathlib.Path) -> str:
    """Classify a file of ``package``: Python code, Python tests, or everything else."""
    top = path.relative_to(ROOT / package).parts[0]
    if path.suffix != '.py':
        return 'other'
    return {package: 'code', 'test': 'tests'}.get(top, 'other')


def _line_count(path: pathlib.Path) -> int:
    """Return the lines of a text file but its copyright header (0 for binary files)."""
    try:
        text = path.read_text(encoding='utf-8')
    except UnicodeDecodeError:
        return 0
    return len(text.replace(HEADER + '\n', '', 1).splitlines())


def line_counts() -> dict[str, collections.Counter[str]]:
    """Return lines per package and kind (code, tests, other text files)."""
    counts = {}
    for package in PACKAGES:
        count = collections.Counter(dict.fromkeys(('code', 'tests', 'other'), 0))
        for path in _files(ROOT / package):
            count[_kind(package, path)] += _line_count(path)
        counts[package] = count
    return counts


def imports_of(path: pathlib.Path) -> set[str]:
    """Return the top-level names of the project packages ``path`` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split('.')[0])
    return names & set(PACKAGES)


def import_graph(kind: str) -> dict[str, set[str]]:
    """Return, per package, the other project packages its files of ``kind`` import."""
    return {package: set().union(*(imports_of(path) for path in _files(ROOT / package)
                                   if _kind(package, path) == kind)) - {package}
            for package in PACKAGES}


def markdown() -> str:
    """Return the line-count and import-graph tables."""
    counts = line_counts()
    lines = ['| package | Python modules | tests | launch, config, interface and build files '
             '| total |',
             '|---|---:|---:|---:|---:|']
    for package, count in counts.items():
        lines.append(f'| {package} | {count["code"]:,} | {count["tests"]:,} | '
                     f'{count["other"]:,} | {sum(count.values()):,} |')
    code, tests = import_graph('code'), import_graph('tests')
    lines += ['', '| package | its code imports | its tests import |', '|---|---|---|']
    for package in PACKAGES:
        lines.append(f'| {package} | {", ".join(sorted(code[package])) or "-"} | '
                     f'{", ".join(sorted(tests[package])) or "-"} |')
    return '\n'.join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the tables; with --check, fail on an import the layout forbids."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].strip())
    parser.add_argument('--check', action='store_true',
                        help='exit 1 when a package imports one it may not')
    args = parser.parse_args(argv)
    print(markdown())
    if not args.check:
        return 0
    forbidden = {package: imported - ALLOWED[package]
                 for kind in ('code', 'tests')
                 for package, imported in import_graph(kind).items()
                 if imported - ALLOWED[package]}
    for package, imported in forbidden.items():
        print(f'{package} imports {", ".join(sorted(imported))}, which it may not',
              file=sys.stderr)
    return 1 if forbidden else 0


if __name__ == '__main__':
    sys.exit(main())
