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
torch and numba are optional: the default actor runs in processes where neither can load.

Each process gets a path entry whose ``torch`` and ``numba`` packages raise ImportError, as on a
robot that installed requirements-robot.txt only. ``poe-steer inspect`` and the steering node
run there with their default settings (``device: auto``, numpy's per-state kernels), and
neither ends up with torch or numba loaded.
"""

import math
import pathlib
import subprocess
import sys
import time

from ament_index_python.packages import get_package_share_directory
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
import pytest
import rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import LaserScan

OPEN_SCAN_RAYS = 72
"""Rays of the open-space scan the shipped (seeing) actor gets: every one at range_max."""
NO_TORCH_CHECK = ("import sys; assert 'torch' not in sys.modules, 'torch was imported'; "
                  "assert 'numba' not in sys.modules, 'numba was imported'")
"""Appended to each process's work: a failed import leaves no entry in sys.modules."""


@pytest.fixture
def without_torch(without_packages) -> dict[str, str]:
    """Return an environment whose Python finds a ``torch`` and a ``numba`` that refuse."""
    environment = without_packages('torch', 'numba')
    for name in ('torch', 'numba'):
        check = subprocess.run([sys.executable, '-c', f'import {name}'], env=environment,
                               capture_output=True, text=True, timeout=60)
        assert check.returncode != 0 and 'blocked by the test' in check.stderr
    return environment


def default_manifest() -> pathlib.Path:
    return pathlib.Path(get_package_share_directory('poe_steer_ros'), 'models',
                        'default_actor.pt.yaml')


def test_inspect_runs_the_default_actor_without_torch(without_torch):
    script = ('import sys; from poe_steer_ros.cli import main; code = main(sys.argv[1:]); '
              f'{NO_TORCH_CHECK}; sys.exit(code)')
    result = subprocess.run(
        [sys.executable, '-c', script, 'inspect', str(default_manifest()), '--iterations', '20'],
        env=without_torch, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'default_actor.onnx' in result.stdout


def test_a_torch_format_without_torch_is_refused_with_the_reason(without_torch):
    script = ('import sys; from poe_steer_ros.cli import main; '
              'sys.exit(main(sys.argv[1:]))')
    result = subprocess.run(
        [sys.executable, '-c', script, 'inspect', str(default_manifest()), '--format',
         'torchscript', '--iterations', '1'],
        env=without_torch, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert 'PyTorch, which is not installed' in result.stderr


def test_the_node_steers_with_the_default_actor_without_torch(without_torch, tmp_path):
    script = ('import atexit, sys; from poe_steer_ros.ros.steer_node import main; '
              f'atexit.register(lambda: exec({NO_TORCH_CHECK!r})); main()')
    topics = {'state': '/no_torch/odom', 'command': '/no_torch/cmd_vel', 'scan': '/no_torch/scan'}
    params = pathlib.Path(get_package_share_directory('poe_steer_ros'), 'config', 'steer.yaml')
    log = tmp_path / 'node.log'
    with open(log, 'w') as output:
        process = subprocess.Popen(
            [sys.executable, '-c', script, '--ros-args', '--params-file', str(params),
             '-r', '__node:=poe_steer_no_torch',
             *(arg for name, topic in topics.items() for arg in ('-r', f'{name}:={topic}'))],
            env=without_torch, stdout=output, stderr=subprocess.STDOUT)
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node('no_torch_driver', context=context)
        executor = rclpy.executors.SingleThreadedExecutor(context=context)
        executor.add_node(node)
        commands: list[Twist] = []
        node.create_subscription(Twist, topics['command'], commands.append, 10)
        publisher = node.create_publisher(Odometry, topics['state'], qos_profile_sensor_data)
        scan_publisher = node.create_publisher(LaserScan, topics['scan'], qos_profile_sensor_data)
        state = Odometry()
        state.pose.pose.orientation.w = 1.0
        increment = 2 * math.pi / OPEN_SCAN_RAYS
        scan = LaserScan(angle_min=-math.pi, angle_increment=increment,
                         angle_max=-math.pi + increment * (OPEN_SCAN_RAYS - 1), range_min=0.05,
                         range_max=4.0, ranges=[4.0] * OPEN_SCAN_RAYS)

        def publish() -> None:
            state.header.stamp = scan.header.stamp = node.get_clock().now().to_msg()
            publisher.publish(state)
            scan_publisher.publish(scan)

        node.create_timer(0.05, publish)
        deadline = time.monotonic() + 60.0
        # The watchdog's safe command is zero; the actor drives towards the goal ahead.
        while time.monotonic() < deadline and not any(c.linear.x > 0.0 for c in commands):
            assert process.poll() is None, log.read_text()
            executor.spin_once(timeout_sec=0.1)
        assert any(c.linear.x > 0.0 for c in commands), log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)
        rclpy.shutdown(context=context)
    assert process.returncode == 0, log.read_text()
    assert 'torch was imported' not in log.read_text()
    assert 'numba was imported' not in log.read_text()
    assert 'per-state kernels numpy (numba unavailable: ImportError' in log.read_text()
