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
What a requirements file installs: the distributions it pulls in and their size on disk.

Reads the metadata of the installed distributions (their ``Requires-Dist`` and ``RECORD``), so
it measures the environment it runs in without downloading anything. ``scripts/bootstrap.sh``
runs it as a script after installing requirements-robot.txt into the Jazzy venv, to prove that
the runtime's requirements keep the venv's numpy and pull in no torch; the benchmark report
quotes the install size.

    python install_size.py requirements-robot.txt [--refuse torch] [--numpy 1.26.4]
"""

from __future__ import annotations

import argparse
import dataclasses
from importlib import metadata
import pathlib
import sys
from typing import Iterable, Sequence

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


@dataclasses.dataclass(frozen=True)
class Installed:
    """One installed distribution a requirements file pulls in."""

    name: str
    version: str
    size_bytes: int


def read_requirements(path: pathlib.Path) -> list[Requirement]:
    """Return the requirements of a file, following ``-r`` includes; options are skipped."""
    requirements = []
    for line in path.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line.startswith('-r '):
            requirements += read_requirements(path.parent / line[3:].strip())
        elif line and not line.startswith('-'):
            requirements.append(Requirement(line))
    return requirements


def _size(distribution: metadata.Distribution) -> int:
    total = 0
    for file in distribution.files or ():
        path = pathlib.Path(str(distribution.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def closure(requirements: Iterable[Requirement]) -> list[Installed]:
    """
    Return every installed distribution the requirements need, dependencies included.

    :raises metadata.PackageNotFoundError: if one of them is not installed.
    """
    pending = list(requirements)
    found: dict[str, Installed] = {}
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        distribution = metadata.distribution(requirement.name)
        found[name] = Installed(name, distribution.version, _size(distribution))
        for dependency in map(Requirement, distribution.requires or ()):
            if dependency.marker is None or dependency.marker.evaluate({'extra': ''}):
                pending.append(dependency)
    return sorted(found.values(), key=lambda installed: -installed.size_bytes)


def main(argv: Sequence[str] | None = None) -> int:
    """Print what a requirements file installed; fail on a refused name or a numpy change."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('requirements', type=pathlib.Path)
    parser.add_argument('--refuse', action='append', default=[],
                        help='fail if this distribution is pulled in (repeatable)')
    parser.add_argument('--numpy', help='fail unless the installed numpy has this version')
    args = parser.parse_args(argv)
    installed = closure(read_requirements(args.requirements))
    total = sum(item.size_bytes for item in installed)
    print(f'{args.requirements.name}: {len(installed)} distributions, {total / 1e6:.0f} MB: '
          + ', '.join(f'{item.name} {item.version} ({item.size_bytes / 1e6:.0f} MB)'
                      for item in installed))
    names = {item.name: item.version for item in installed}
    refused = [name for name in map(canonicalize_name, args.refuse) if name in names]
    if refused:
        print(f'refused: {args.requirements.name} pulls in {refused}', file=sys.stderr)
        return 1
    if args.numpy and metadata.version('numpy') != args.numpy:
        print(f'numpy {metadata.version("numpy")} is installed, expected {args.numpy} (the '
              'requirements must keep the distribution numpy)', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
