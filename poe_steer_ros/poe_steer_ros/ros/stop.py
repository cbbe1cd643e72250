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
SIGINT and SIGTERM as a request to stop, from the first instruction of a node process on.

A node process spends its first seconds importing rclpy, torch and the actor runtimes. Under
Python's default handlers a Ctrl-C there raises KeyboardInterrupt wherever an import happens
to be (a traceback, exit status -2) and SIGTERM kills the process (-15). The console entry
points below install the handlers before any of those imports: a signal then only records
the request, and ``node_main.run_node`` exits 0 without a node, or with the node's last words
once it exists.

That leaves the interpreter's own start-up, before any entry point runs (about 0.05-0.1 s,
longer on a loaded machine). The launch files close it: they start the node through
``START_UP_PREFIX``, which blocks both signals across ``exec``; a signal sent meanwhile stays
pending, and ``request_stop_on_signals`` unblocks it only once its handlers are in place.
Started otherwise (``ros2 run``, a shell), only that first window keeps Python's defaults.
This module imports nothing heavy on purpose: launch files import it.
"""

from __future__ import annotations

import functools
import signal
import threading

STOP_REQUESTED = threading.Event()
"""Set by SIGINT or SIGTERM (after ``request_stop_on_signals``)."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
START_UP_PREFIX = ('env', '--block-signal=INT,TERM')
"""Command prefix that starts a program with ``STOP_SIGNALS`` blocked (GNU coreutils >= 8.31,
as on Ubuntu 20.04 on)."""
SIGNAL_SAFE_EXECUTABLES = ('steer_node', 'steer_lifecycle_node')
"""The executables whose entry points unblock ``STOP_SIGNALS``; only they may get the prefix."""


def request_stop_on_signals() -> None:
    """Make SIGINT and SIGTERM set ``STOP_REQUESTED``; deliver any that waited blocked."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda _signum, _frame: STOP_REQUESTED.set())
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@functools.cache
def start_up_prefix() -> tuple[str, ...]:
    """Return ``START_UP_PREFIX`` if this system's ``env`` supports it, else no prefix."""
    import subprocess  # launch files and harnesses only: kept off the node's start-up path
    try:
        supported = subprocess.run([*START_UP_PREFIX, 'true'], capture_output=True,
                                   timeout=10.0).returncode == 0
    except (OSError, subprocess.SubprocessError):
        supported = False
    return START_UP_PREFIX if supported else ()


def steer_node() -> None:
    """Console entry of ``steer_node``: take the signals first, then import and run the node."""
    request_stop_on_signals()
    from poe_steer_ros.ros.steer_node import main  # heavy: rclpy, torch, the actor runtimes
    main()


def steer_lifecycle_node() -> None:
    """Console entry of ``steer_lifecycle_node``: the same, for the lifecycle node."""
    request_stop_on_signals()
    from poe_steer_ros.ros.steer_node import managed_main  # heavy, as above
    managed_main()
