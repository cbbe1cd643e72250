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
Check a package's XML files with ament_xmllint, or offline where it cannot run; exit 1 on errors.

Where ament_xmllint and the ``xmllint`` program are installed, they run. ament_xmllint has no
wheel for the ROS 2 versions used here, and it fetches the schemas a file names from the
internet; without it this check does what it can offline:

* every ``*.xml`` and ``*.sdf`` file must be well-formed (lxml's parser, with line numbers);
* a Fast DDS profiles file (root in eProsima's namespace) is validated against the
  ``fastdds_profiles.xsd`` that Fast DDS installs, when one is found under
  ``$AMENT_PREFIX_PATH``, ``$CMAKE_PREFIX_PATH`` or ``/opt/ros/*``;
* ``package.xml`` must declare format 3 and its schema, and pass catkin_pkg's validation (the
  parser colcon and rosdep use: name, version, description, maintainer, license, dependencies,
  build type), with any warning counted as a problem.

    scripts/check_xml.py PATH...   # files or folders (folders: searched recursively)
"""

from __future__ import annotations

import glob
import os
import pathlib
import shutil
import sys
from typing import Sequence

from catkin_pkg.package import InvalidPackage, parse_package
from lxml import etree
from source_tree import files_under

SUFFIXES = ('.xml', '.sdf')
FASTDDS_NAMESPACE = 'http://www.eprosima.com'
PACKAGE_SCHEMA = 'http://download.ros.org/schema/package_format3.xsd'


def fastdds_schema() -> pathlib.Path | None:
    """Return the profiles schema Fast DDS installed (Fast DDS 3 or Fast RTPS 2 name)."""
    prefixes = [prefix for variable in ('AMENT_PREFIX_PATH', 'CMAKE_PREFIX_PATH')
                for prefix in os.environ.get(variable, '').split(os.pathsep) if prefix]
    prefixes += sorted(glob.glob('/opt/ros/*'))
    for prefix in prefixes:
        for name in ('fastdds/fastdds_profiles.xsd', 'fastrtps/fastRTPS_profiles.xsd'):
            candidate = pathlib.Path(prefix, 'share', name)
            if candidate.is_file():
                return candidate
    return None


def _package_problems(path: pathlib.Path, document: etree._ElementTree) -> list[str]:
    """Return what is wrong with a package manifest."""
    problems = []
    if document.getroot().get('format') != '3':
        problems.append('package format must be 3')
    models = [node for node in document.xpath('/processing-instruction("xml-model")')
              if PACKAGE_SCHEMA in node.text]
    if not models:
        problems.append(f'no <?xml-model href="{PACKAGE_SCHEMA}" ...?> line')
    warnings: list[str] = []
    try:
        parse_package(str(path), warnings=warnings)
    except InvalidPackage as error:
        problems.append(str(error))
    return problems + warnings


def problems_of(path: pathlib.Path, schema: etree.XMLSchema | None) -> list[str]:
    """Return the problems of one XML file (empty when it passes)."""
    try:
        document = etree.parse(str(path))
    except etree.XMLSyntaxError as error:
        return [f'not well-formed: {error}']
    root = document.getroot()
    if path.name == 'package.xml':
        return _package_problems(path, document)
    if etree.QName(root).namespace == FASTDDS_NAMESPACE and schema is not None:
        if not schema.validate(document):
            return [f'line {entry.line}: {entry.message}' for entry in schema.error_log]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    """Check every XML file under the given paths; print one line per problem."""
    paths = [pathlib.Path(arg) for arg in (sys.argv[1:] if argv is None else argv)] or [
        pathlib.Path.cwd()]
    try:
        from ament_xmllint.main import main as ament_xmllint
    except ImportError:
        ament_xmllint = None
    if ament_xmllint is not None and shutil.which('xmllint'):
        return int(ament_xmllint([str(path) for path in paths]))
    schema_path = fastdds_schema()
    schema = None if schema_path is None else etree.XMLSchema(etree.parse(str(schema_path)))
    if schema is None:
        print('no Fast DDS profiles schema found: Fast DDS files are checked for '
              'well-formedness only')
    files = list(files_under(paths, lambda path: path.name.endswith(SUFFIXES)))
    failed = 0
    for path in files:
        problems = problems_of(path, schema)
        failed += bool(problems)
        for problem in problems:
            print(f'{path}: {problem}', file=sys.stderr)
    print(f'{failed} of {len(files)} XML files have problems')
    return 1 if failed or not files else 0


if __name__ == '__main__':
    sys.exit(main())
