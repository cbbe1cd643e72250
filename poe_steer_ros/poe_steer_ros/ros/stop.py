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
SIGINT and SIGTERM as a request to stop, from the first line of a node process on.

A node process spends its first seconds importing rclpy, torch and the actor runtimes. Under
Python's default handlers a Ctrl-C there raises KeyboardInterrupt wherever an import happens
to be (a traceback, exit status -2) and SIGTERM kills the process (-15). The console entry
points below install the handlers before any of those imports: a signal then only records
the request, and ``node_main.run_node`` exits 0 without a node, or with the node's last words
once it exists. Only the interpreter's own start-up, before the entry point runs, is left to
the default handlers. This module imports nothing heavy on purpose.
"""

from __future__ import annotations

import signal
import threading

STOP_REQUESTED = threading.Event()
"""Set by SIGINT or SIGTERM (after ``request_stop_on_signals``)."""


def request_stop_on_signals() -> None:
    """Make SIGINT and SIGTERM set ``STOP_REQUESTED`` instead of interrupting the process."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: STOP_REQUESTED.set())


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
