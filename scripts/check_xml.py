#!/usr/bin/env python3
"""
Check a package's XML files where ament_xmllint cannot run; exit 1 on any problem.

ament_xmllint has no wheel for the ROS 2 versions used here, needs the ``xmllint`` program and
fetches the schemas a file names from the internet. This check does what it can offline:

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
import sys
from typing import Iterator, Sequence

from catkin_pkg.package import InvalidPackage, parse_package
from lxml import etree

SUFFIXES = ('.xml', '.sdf')
SKIPPED_FOLDERS = frozenset({'build', 'install', 'log'})
FASTDDS_NAMESPACE = 'http://www.eprosima.com'
PACKAGE_SCHEMA = 'http://download.ros.org/schema/package_format3.xsd'


def xml_files(paths: Sequence[pathlib.Path]) -> Iterator[pathlib.Path]:
    """Yield the XML files under ``paths``, skipping hidden folders and colcon spaces."""
    for path in paths:
        if path.is_file():
            yield path
            continue
        for child in sorted(path.iterdir()):
            if child.is_dir():
                if not child.name.startswith(('.', '_')) and child.name not in SKIPPED_FOLDERS:
                    yield from xml_files([child])
            elif child.name.endswith(SUFFIXES):
                yield child


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
    schema_path = fastdds_schema()
    schema = None if schema_path is None else etree.XMLSchema(etree.parse(str(schema_path)))
    if schema is None:
        print('no Fast DDS profiles schema found: Fast DDS files are checked for '
              'well-formedness only')
    files = list(xml_files(paths))
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
