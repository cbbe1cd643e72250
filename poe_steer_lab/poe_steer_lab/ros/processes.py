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
Start package executables the way ``ros2 launch`` and ``ros2 run`` start them.

``launch`` is not always installed (the PyPI ROS 2 wheels lack it), so tests, the closed-loop
harness and the demo start node processes themselves: the installed console script under
``<prefix>/lib/<package>/`` with the ``--ros-args`` a launch file would pass.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from types import ModuleType
from typing import Any, Iterator, Mapping, Sequence

from ament_index_python.packages import get_package_prefix, get_package_share_directory
from poe_steer_ros.ros.discovery import discovery_environment, DISCOVERY_PROFILE
from poe_steer_ros.ros.stop import SIGNAL_SAFE_EXECUTABLES, start_up_prefix
import yaml


def executable_path(executable: str, package: str = 'poe_steer_ros') -> Path:
    """Return the installed path of a package's executable, as ``ros2 run`` resolves it."""
    path = Path(get_package_prefix(package)) / 'lib' / package / executable
    if not path.is_file():
        raise FileNotFoundError(f'{package} has no executable {executable!r} (looked at {path})')
    return path


LAUNCH_PACKAGES = ('poe_steer_ros', 'poe_steer_sim')
"""The packages whose launch files ``launch_table`` finds by name."""


def launch_table(launch_file: str) -> ModuleType:
    """
    Load an installed launch file as a module, without running it.

    The package's launch files keep their node tables (executables, parameter files, remaps)
    at module level and import ``launch`` only inside ``generate_launch_description``, so the
    harness and the tests start processes from the same table ``ros2 launch`` uses. Each
    launch file names its own package in ``PACKAGE``.
    """
    paths = [Path(get_package_share_directory(package)) / 'launch' / launch_file
             for package in LAUNCH_PACKAGES]
    path = next((path for path in paths if path.is_file()), paths[0])
    spec = importlib.util.spec_from_file_location(path.name.replace('.', '_'), path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f'no launch file {path}')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def share_file(*parts: str, package: str = 'poe_steer_ros') -> Path:
    """Return a file of the package's share folder."""
    return Path(get_package_share_directory(package)).joinpath(*parts)


def shipped_steer_parameters() -> dict[str, Any]:
    """Return the steering node's installed parameter file (config/steer.yaml) as a dict."""
    steer = launch_table('steer.launch.py')
    values: dict[str, Any] = yaml.safe_load(
        share_file(*steer.DEFAULT_PARAMS_FILE).read_text())['/**']['ros__parameters']
    return values


def discovery_profile_environment() -> dict[str, str]:
    """Return the Fast DDS profile variables the launch files give their nodes."""
    return discovery_environment(str(share_file(*DISCOVERY_PROFILE)))


@contextlib.contextmanager
def exported(variables: Mapping[str, str]) -> Iterator[None]:
    """
    Set environment variables of this process inside the block, restore them after it.

    For what reads them from this process (an in-process DDS participant, processes started
    inside the block); the rest of the process, a test suite's later tests, sees them unchanged.
    """
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def format_parameter(value: object) -> str:
    """Render a value for ``-p name:=value`` (YAML, as the ROS argument parser reads it)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(format_parameter(item) for item in value) + ']'
    if isinstance(value, str):
        return f"'{value}'"
    return repr(value)


def ros_arguments(params_file: str | Path | None = None,
                  parameters: Mapping[str, object] | None = None,
                  remaps: Mapping[str, str] | None = None) -> list[str]:
    """Build the ``--ros-args`` list ``ros2 launch`` passes for a Node action."""
    arguments = ['--ros-args']
    if params_file is not None:
        arguments += ['--params-file', str(params_file)]
    for name, value in (parameters or {}).items():
        arguments += ['-p', f'{name}:={format_parameter(value)}']
    for source, target in (remaps or {}).items():
        arguments += ['-r', f'{source}:={target}']
    return arguments


class NodeProcess:
    """
    One node process with its output captured to a log file.

    Use as a context manager; leaving the block interrupts the process like Ctrl-C and kills it
    if it has not exited within the grace period.
    """

    def __init__(self, executable: str, arguments: Sequence[str], log_path: str | Path,
                 package: str = 'poe_steer_ros', env: Mapping[str, str] | None = None,
                 module: bool = False) -> None:
        """
        Prepare ``executable`` of ``package`` with ``arguments``; nothing starts yet.

        :param module: ``executable`` is a Python module run with ``python -m`` (bench tools
            that are not installed as executables).
        """
        program = [sys.executable, '-m', executable] if module else [
            str(executable_path(executable, package))]
        if package == 'poe_steer_ros' and executable in SIGNAL_SAFE_EXECUTABLES:
            program = [*start_up_prefix(), *program]  # as the launch files start them
        self.command = [*program, *arguments]
        self.log_path = Path(log_path)
        self._env = {**os.environ, 'PYTHONUNBUFFERED': '1', **(env or {})}
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> 'NodeProcess':
        """Start the process; its stdout and stderr go to ``log_path``."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, 'wb') as log:
            self._process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, env=self._env,
                start_new_session=True)
        return self

    @property
    def returncode(self) -> int | None:
        """Exit status, or None while running."""
        return None if self._process is None else self._process.poll()

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors='replace') if self.log_path.exists() else ''

    def wait(self, timeout_s: float) -> int:
        """Wait for the process to exit by itself; return its exit status."""
        if self._process is None:
            raise RuntimeError(f'{self.command[0]} was never started')
        return self._process.wait(timeout=timeout_s)

    def send_signal(self, signum: int) -> None:
        """Deliver a signal to the process (SIGINT is what Ctrl-C sends)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signum)

    def stop(self, signum: int = signal.SIGINT, grace_s: float = 10.0) -> int | None:
        """Signal the process, wait up to ``grace_s``, then kill it; return its exit status."""
        if self._process is None:
            return None
        self.send_signal(signum)
        deadline = time.monotonic() + grace_s
        while self._process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        return self._process.returncode

    def __enter__(self) -> 'NodeProcess':
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
