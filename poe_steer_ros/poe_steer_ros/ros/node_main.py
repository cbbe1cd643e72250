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
Process entry shared by the package's nodes: init, spin, clean exit on Ctrl-C and SIGTERM.

rclpy's own signal handlers shut the context down from another thread, racing a timer's last
publishes ("publisher's context is invalid"), and rclpy 9 then raises ExternalShutdownException
out of spin. Handling SIGINT and SIGTERM in the main thread instead keeps the context valid
until the node has sent its last words (the steering node's safe command). The handlers only
record the request: an exception raised from a handler lands wherever the main thread is, and
inside rclpy's pybind11 message conversion it comes out as a RuntimeError (seen under 1 kHz
state), so the spin loop polls the request instead.
"""

from __future__ import annotations

import gc
from typing import Callable, Sequence

from poe_steer_ros.ros.stop import request_stop_on_signals, STOP_REQUESTED
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions


SIGNAL_POLL_S = 0.1
"""Longest time between a SIGINT/SIGTERM and the start of the node's shutdown, s."""


class StartupError(RuntimeError):
    """A node could not start safely; the process exits non-zero with this reason."""


def run_node(make_node: Callable[[], Node], args: Sequence[str] | None = None,
             logger_name: str = 'poe_steer_ros') -> int:
    """
    Create a node, spin it until SIGINT/SIGTERM and return the process exit status.

    A node with an ``on_shutdown()`` method gets it called before it is destroyed. Start-up
    failures (StartupError, or ValueError/OSError from the core's loaders) are logged as fatal
    and give exit status 1. A signal before or during start-up (see ``ros.stop``) ends the
    process quietly with status 0: before the node exists, at once; during its start-up, once
    it has started and sent its safe command.
    """
    request_stop_on_signals()
    if STOP_REQUESTED.is_set():
        return 0
    rclpy.init(args=list(args) if args is not None else None,
               signal_handler_options=SignalHandlerOptions.NO)
    node = None
    try:
        if STOP_REQUESTED.is_set():
            return 0
        try:
            node = make_node()
        except (StartupError, ValueError, OSError) as error:
            if STOP_REQUESTED.is_set():
                return 0  # asked to stop while starting (an import may have been cut short)
            rclpy.logging.get_logger(logger_name).fatal(f'cannot start: {error}')
            return 1
        # Start-up objects (torch, the actor, message types: about 300k) live as long as the
        # process; a full collection walking them pauses a control tick for over 100 ms here.
        gc.collect()
        gc.freeze()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        while not STOP_REQUESTED.is_set():
            executor.spin_once(timeout_sec=SIGNAL_POLL_S)
    except ExternalShutdownException:
        pass
    finally:
        if node is not None:
            on_shutdown = getattr(node, 'on_shutdown', None)
            if on_shutdown is not None:
                on_shutdown()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
