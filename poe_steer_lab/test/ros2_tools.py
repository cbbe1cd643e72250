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
Run the real ``ros2`` command line the way a user types it, for the tool tests.

The tools come from an apt-installed ROS 2 or, in development, from the overlay that
``scripts/bootstrap.sh`` builds into ``build/ros2-tools-<distro>`` and ``scripts/env.sh``
sources. Where neither is there, ``SKIP_REASON`` says so and the tool tests skip.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
import re
import shutil
import signal
import subprocess
import time
from typing import Callable, Iterator

from poe_steer_ros.ros.discovery import DISCOVERY_VARIABLES
import pytest
import yaml

HAVE_TOOLS = shutil.which('ros2') is not None and all(
    importlib.util.find_spec(name) is not None for name in ('launch', 'launch_ros', 'ros2cli'))
SKIP_REASON = ('the ros2 CLI and launch are not installed: install ROS 2 from apt, or put '
               '../shared/ros2-tools beside the repository and run make build (it builds them '
               'into build/ros2-tools-<distro>)')
COMMAND_TIMEOUT_S = 60.0
START_TIMEOUT_S = 90.0
COMMANDING = 'commanding on'
"""What the steering node logs once its topics exist and it steers."""
STEER_SHARE = '$(ros2 pkg prefix poe_steer_ros)/share/poe_steer_ros'
"""The installed share folder, as the docs write it."""


@pytest.fixture(scope='module')
def ros2_daemon() -> Iterator[None]:
    """Stop the ``ros2`` daemon the commands started for this test domain, afterwards."""
    yield
    if HAVE_TOOLS:
        ros2('ros2 daemon stop', check=False)


NOT_YET_DISCOVERED = ('Unable to find node', 'Node not found',
                      'timed out waiting for parameter services')
"""What ``ros2`` commands say while their process (or a freshly started daemon) has not yet
discovered a node that is up; a user would run the command again, and so do the tests."""
DISCOVERY_RETRY_S = 15.0


def ros2(command: str, timeout_s: float = COMMAND_TIMEOUT_S,
         check: bool = True) -> subprocess.CompletedProcess:
    """
    Run one shell command line as typed (``ros2 param set /poe_steer goal "[4, 1]"``).

    :returns: the finished process; stdout and stderr as text.
    :raises AssertionError: with both outputs when ``check`` and the exit status is not 0.
    """
    deadline = time.monotonic() + DISCOVERY_RETRY_S
    while True:
        result = subprocess.run(['bash', '-c', command], capture_output=True, text=True,
                                timeout=timeout_s)
        undiscovered = any(message in result.stdout + result.stderr
                           for message in NOT_YET_DISCOVERED)
        if result.returncode == 0 or not undiscovered or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if check:
        assert result.returncode == 0, (
            f'{command} exited {result.returncode}\n{result.stdout}\n{result.stderr}')
    return result


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f'timed out waiting for {what}'
        time.sleep(0.5)


def node_names() -> list[str]:
    """Return ``ros2 node list``."""
    return ros2('ros2 node list').stdout.split()


def start(launch: 'Launch', node: str = '/poe_steer', ready: str = '') -> 'Launch':
    """
    Wait until ``node`` is in the graph, ``ready`` in the output and ``ros2 param`` finds it.

    A ``ros2`` daemon started moments ago (the previous test module stopped its own) may list
    the node before every command sees it; a ``ros2 param get`` then says "Node not found".
    """
    def up() -> bool:
        assert launch._process.poll() is None, f'launch ended:\n{launch.output()}'
        return ready in launch.output() and node in node_names() and \
            ros2(f'ros2 param list {node}', check=False).returncode == 0
    wait_for(up, START_TIMEOUT_S, f'{node} to start; output:\n{launch.output()}')
    return launch


def parameter(name: str, node: str = '/poe_steer') -> object:
    """Return the value ``ros2 param get`` prints, read back as YAML."""
    text = ros2(f'ros2 param get {node} {name}').stdout.strip()
    return yaml.safe_load(text.split(' is: ', 1)[1] if ' is: ' in text else
                          text.split(': ', 1)[1])


def param_set(command: str) -> str:
    """Run a ``ros2 param set`` line; return what it printed (it exits 0 even on refusal)."""
    result = ros2(command)
    return result.stdout + result.stderr


def launch_environment() -> dict[str, str]:
    """
    Return a user's shell environment for ``ros2 launch``: this one, no Fast DDS profile exported.

    In-process benchmarks of the suite export the profile into this process; a user's shell has
    none unless they export it, and the launch files decide then.
    """
    return {name: value for name, value in os.environ.items()
            if name not in DISCOVERY_VARIABLES} | {'PYTHONUNBUFFERED': '1'}


class Launch:
    """
    ``ros2 launch ...`` in the background, its output in a log file.

    Stopped like Ctrl-C: SIGINT to the launch process, which stops its nodes; whatever is left
    after the grace period (launch#666) is killed with the process group.
    """

    def __init__(self, command: str, log_path: Path) -> None:
        self.command = command
        self.log_path = log_path
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> 'Launch':
        with open(self.log_path, 'wb') as log:
            self._process = subprocess.Popen(
                ['bash', '-c', f'exec {self.command}'], stdout=log, stderr=subprocess.STDOUT,
                env=launch_environment(), start_new_session=True)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def output(self) -> str:
        """Everything ``ros2 launch`` and its nodes printed so far."""
        return self.log_path.read_text(errors='replace')

    def wait(self, timeout_s: float) -> int:
        """Wait for the launch to end by itself; return its exit status."""
        return self._process.wait(timeout=timeout_s)

    def pids(self) -> dict[str, int]:
        """Return the pid of each started process by its launch name (``steer_node-1``)."""
        return {name: int(pid) for name, pid in re.findall(
            r'\[INFO\] \[(\S+)\]: process started with pid \[(\d+)\]', self.output())}

    def stop(self, grace_s: float = 15.0) -> int | None:
        """Interrupt like Ctrl-C and return the exit status of ``ros2 launch``."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
            try:
                self._process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait()
        return self._process.returncode


def process_environment(pid: int) -> dict[str, str]:
    """Return the environment a running process was started with."""
    raw = Path(f'/proc/{pid}/environ').read_bytes().split(b'\0')
    return dict(item.decode(errors='replace').split('=', 1) for item in raw if b'=' in item)
