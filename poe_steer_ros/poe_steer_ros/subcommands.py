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
Command lines made of subcommands: ``poe-steer`` here and the lab's ``poe-steer-lab``.

Kept free of numpy and the core, so that a command's ``--help`` starts at once.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Sequence


def command_parser(prog: str, description: str,
                   subcommands: Sequence[Callable[[Any], None]]) -> argparse.ArgumentParser:
    """Return a parser of subcommands; each adds itself and sets ``handler`` to its function."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    subparsers = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    for add_subcommand in subcommands:
        add_subcommand(subparsers)
    return parser


def run_command(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the chosen subcommand's handler; return its exit code."""
    args = parser.parse_args(argv)
    return int(args.handler(args))
