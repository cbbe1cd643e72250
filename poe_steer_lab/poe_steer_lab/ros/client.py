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
A small rclpy client for driving nodes from outside: tests, the closed-loop harness, the demo.

It owns a private context and node, so several clients and the code under test never share
global rclpy state, and sets parameters through the ``SetParameters`` service exactly as
``ros2 param set`` does.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence, TypeVar

from rcl_interfaces.msg import SetParametersResult
from rcl_interfaces.srv import GetParameters, SetParameters
import rclpy
from rclpy.client import Client
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter, parameter_value_to_python
from rclpy.qos import QoSProfile

MessageT = TypeVar('MessageT')


def _parameter(name: str, value: object) -> Parameter:
    """Build a Parameter; an empty list is a double array (its type cannot be inferred)."""
    if isinstance(value, (list, tuple)) and not value:
        return Parameter(name, Parameter.Type.DOUBLE_ARRAY, [])
    return Parameter(name, value=value)


class TopicRecorder:
    """Keeps every message received on one topic, with its arrival time (steady clock, s)."""

    def __init__(self) -> None:
        self.messages: list = []
        self.arrival_s: list[float] = []

    def __call__(self, message: object) -> None:
        self.messages.append(message)
        self.arrival_s.append(time.monotonic())

    @property
    def latest(self) -> object | None:
        """Return the last message received, or None."""
        return self.messages[-1] if self.messages else None


class RosClient:
    """A private rclpy context with one node and a single-threaded executor."""

    def __init__(self, name: str = 'poe_steer_client', args: Sequence[str] | None = None) -> None:
        self.context = Context()
        rclpy.init(context=self.context, args=list(args) if args else None)
        self.node = Node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._clients: dict[str, Client] = {}

    def close(self) -> None:
        """Destroy the node and shut the private context down."""
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()

    def __enter__(self) -> 'RosClient':
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def record(self, message_type: type, topic: str, qos: QoSProfile | int = 10) -> TopicRecorder:
        """Subscribe to ``topic`` and keep everything that arrives."""
        recorder = TopicRecorder()
        self.node.create_subscription(message_type, topic, recorder, qos)
        return recorder

    def spin_for(self, duration_s: float) -> None:
        """Process callbacks for ``duration_s`` seconds of wall time."""
        deadline = time.monotonic() + duration_s
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=min(0.01, max(0.0, deadline - time.monotonic())))

    def spin_until(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Process callbacks until ``condition()`` holds; False if ``timeout_s`` passes first."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() >= deadline:
                return False
            self.executor.spin_once(timeout_sec=0.01)
        return True

    def call(self, service_type: type, service: str, request: object,
             timeout_s: float = 10.0) -> object:
        """
        Call a service and return its response; TimeoutError if it does not answer.

        Clients are kept per service, so only the first call waits for discovery.
        """
        client = self._clients.get(service)
        if client is None:
            client = self._clients[service] = self.node.create_client(service_type, service)
        if not self.spin_until(client.service_is_ready, timeout_s):
            raise TimeoutError(f'service {service} is not available after {timeout_s} s')
        future = client.call_async(request)
        if not self.spin_until(future.done, timeout_s):
            raise TimeoutError(f'service {service} did not answer within {timeout_s} s')
        return future.result()

    def set_parameters(self, node_name: str, values: dict[str, object],
                       timeout_s: float = 10.0) -> list[SetParametersResult]:
        """Set parameters of ``node_name`` one result each, as ``ros2 param set`` does."""
        request = SetParameters.Request()
        request.parameters = [_parameter(name, value).to_parameter_msg()
                              for name, value in values.items()]
        response = self.call(SetParameters, f'{node_name}/set_parameters', request, timeout_s)
        return list(response.results)

    def get_parameters(self, node_name: str, names: Sequence[str],
                       timeout_s: float = 10.0) -> dict[str, object]:
        """Read parameters of ``node_name`` as Python values, as ``ros2 param get`` does."""
        request = GetParameters.Request(names=list(names))
        response = self.call(GetParameters, f'{node_name}/get_parameters', request, timeout_s)
        return {name: parameter_value_to_python(value)
                for name, value in zip(names, response.values)}
