"""
Process entry shared by the package's nodes: init, spin, clean exit on Ctrl-C and SIGTERM.

rclpy's own signal handlers shut the context down from another thread, racing a timer's last
publishes ("publisher's context is invalid"), and rclpy 9 then raises ExternalShutdownException
out of spin. Handling SIGINT and SIGTERM in the main thread instead keeps the context valid
until the node has sent its last words (the steering node's safe command).
"""

from __future__ import annotations

import signal
from typing import Callable, Sequence

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions


class StartupError(RuntimeError):
    """A node could not start safely; the process exits non-zero with this reason."""


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run_node(make_node: Callable[[], Node], args: Sequence[str] | None = None,
             logger_name: str = 'poe_steer_ros') -> int:
    """
    Create a node, spin it until SIGINT/SIGTERM and return the process exit status.

    A node with an ``on_shutdown()`` method gets it called before it is destroyed. Start-up
    failures (StartupError, or ValueError/OSError from the core's loaders) are logged as fatal
    and give exit status 1.
    """
    rclpy.init(args=list(args) if args is not None else None,
               signal_handler_options=SignalHandlerOptions.NO)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    node = None
    try:
        try:
            node = make_node()
        except (StartupError, ValueError, OSError) as error:
            rclpy.logging.get_logger(logger_name).fatal(f'cannot start: {error}')
            return 1
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            on_shutdown = getattr(node, 'on_shutdown', None)
            if on_shutdown is not None:
                on_shutdown()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
