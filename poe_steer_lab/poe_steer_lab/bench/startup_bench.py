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
What a robot pays to start the runtime: time to the first command, and the install size.

Start-up: the steering node is started ``STARTS`` times with the default actor on the CPU (the
ONNX file: no torch), each time against a driver that publishes odometry; the time from starting
the process to the first command it sends is split at the node's "actor ... warm-up" log line
into the process's own work (imports, actor loading with its hash checks, probe batch and
warm-up) and DDS discovery. The starts run three times: in this venv; as on a robot that installed
requirements-robot.txt only, with the lab's torch and scipy and the optional numba hidden from
the node (numpy's per-state kernels run); and as on a robot that added numba. Install size: what
requirements-robot.txt pulls in, and what numba adds, read from the installed distributions'
records (``install_size``), as a fresh venv would hold it.
"""

from __future__ import annotations

import compileall
import contextlib
import os
import pathlib
import tempfile
from typing import Iterable, Iterator, Sequence

import numpy as np
from packaging.requirements import Requirement
from poe_steer_lab.bench import dds_bench
from poe_steer_lab.bench.install_size import closure, Installed, read_requirements
from poe_steer_lab.ros.processes import discovery_profile_environment, exported
from poe_steer_ros.core.per_state import KERNELS_VARIABLE

STARTS = 20
RATE_HZ = 50
CASE = dds_bench.Case('default actor on the CPU', {})
"""``dds_bench.STEER_OVERRIDES`` already puts the actor on the CPU."""
START_TARGET_S = 0.75
"""Median process start to first command."""
ROBOT_ROW = 'robot install (numba, torch, scipy hidden)'
ROBOT_NUMBA_ROW = 'robot install with the optional numba (torch, scipy hidden)'
SIZE_TARGET_MB = 300.0
"""requirements-robot.txt in a fresh venv, torch excluded (it is not needed)."""


LAB_ONLY = ('torch', 'scipy')
"""Installed here for the lab, absent on a robot; imported by the node (numba: scipy) if found."""
OPTIONAL_NUMBA = Requirement('numba>=0.59')
"""What a robot adds for the compiled per-state kernels (``core.per_state``)."""


@contextlib.contextmanager
def hidden(packages: Sequence[str]) -> Iterator[None]:
    """Make processes started inside the block fail to import ``packages``, as if absent."""
    with tempfile.TemporaryDirectory() as folder:
        for name in packages:
            (pathlib.Path(folder) / name).mkdir()
            (pathlib.Path(folder) / name / '__init__.py').write_text(
                f"raise ImportError('{name} is hidden: not installed on a robot')\n")
        search_path = os.pathsep.join(filter(None, [folder, os.environ.get('PYTHONPATH')]))
        with exported({'PYTHONPATH': search_path}):
            yield


def byte_compile_runtime() -> None:
    """
    Write the runtime's bytecode, as installing it does.

    A robot's install (colcon build, pip or apt) byte-compiles the package; a development
    workspace with PYTHONDONTWRITEBYTECODE set (this machine sets it) never writes it, and every
    start would compile the runtime's sources again (about 50 ms).
    """
    import poe_steer_ros  # the runtime is imported by the node processes only
    for folder in poe_steer_ros.__path__:
        compileall.compile_dir(folder, quiet=1)


def start_times(starts: int) -> tuple[np.ndarray, np.ndarray]:
    """Start the node ``starts`` times; return (start -> first command, start -> ready), s."""
    to_command, to_ready = [], []
    # the driver, as in dds_bench
    with exported(discovery_profile_environment()), tempfile.TemporaryDirectory() as log_dir:
        for _ in range(starts):
            result = dds_bench.measure(CASE, RATE_HZ, 0.0, pathlib.Path(log_dir))
            to_command.append(result.first_command_after_start_s[0])
            to_ready.append(to_command[-1] - result.first_command_after_ready_s[0])
    return np.asarray(to_command), np.asarray(to_ready)


def _verdict(ok: bool) -> str:
    return 'met' if ok else '**missed**'


def install_size_lines(requirements: pathlib.Path) -> list[str]:
    """Return the install-size paragraph of requirements-robot.txt, and of numba beside it."""
    required = read_requirements(requirements)
    installed = closure(required)
    total = _megabytes(installed)
    numpy_mb = _megabytes(item for item in installed if item.name == 'numpy')
    names = {item.name for item in installed}
    added = [item for item in closure([*required, OPTIONAL_NUMBA]) if item.name not in names]
    return [
        f'- install size of `{requirements.name}` (no torch, no numba): {total:.0f} MB in a '
        f'fresh venv, {_verdict(total <= SIZE_TARGET_MB)} against <= {SIZE_TARGET_MB:.0f} MB; '
        f'{total - numpy_mb:.0f} MB in a robot venv that keeps its distribution numpy. '
        f'What it pulls in: {_listed(installed)}.',
        f'- the optional numba adds {_megabytes(added):.0f} MB ({_listed(added)}; '
        'libllvmlite.so, which numba compiles with, ships unstripped). Sizes are those of the '
        'installed files as pip recorded them.']


def _megabytes(installed: Iterable[Installed]) -> float:
    return sum(item.size_bytes for item in installed) / 1e6


def _listed(installed: Iterable[Installed]) -> str:
    return ', '.join(f'{item.name} {item.version} {item.size_bytes / 1e6:.0f} MB'
                     for item in installed)


def run(quick: bool = False, out_dir: pathlib.Path | None = None,
        requirements: pathlib.Path = pathlib.Path('requirements-robot.txt')) -> str:
    """Measure start-up and install size; return a markdown section."""
    starts = 2 if quick else STARTS
    lines = [
        '## Start-up and install size of the runtime', '',
        f'{starts} starts of the steering node per row (`steer_node`, `config/steer.yaml` with '
        '`actor.device: cpu`, so the ONNX file of the default actor runs and torch is never '
        f'imported) against a driver publishing odometry at {RATE_HZ} Hz, rows interleaved. '
        '"Process" is the work of the node itself up to its log line that the actor is ready '
        '(Python start, imports of rclpy, numpy, onnxruntime and, where installed, numba with '
        'its cached kernels, actor loading with hash checks, probe batch, warm-up); the rest of '
        '"to first command" is DDS discovery and the first tick. The runtime is byte-compiled '
        'first, as installing it does. Target: median to first '
        f'command <= {START_TARGET_S} s on a robot install.', '',
        '| node environment | to first command: median (s) | worst (s) | process: median (s) '
        '| worst (s) | target |', '| --- | --- | --- | --- | --- | --- |']
    byte_compile_runtime()
    # Each row's node picks the kernels its packages allow, whatever the caller's environment.
    hiding = {'this venv': (), ROBOT_ROW: (*LAB_ONLY, 'numba'), ROBOT_NUMBA_ROW: LAB_ONLY}
    rows: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {label: [] for label in hiding}
    for _ in range(starts):
        for label, packages in hiding.items():
            with hidden(packages), exported({KERNELS_VARIABLE: 'auto'}):
                rows[label].append(start_times(1))
    for label, samples in rows.items():
        to_command = np.concatenate([sample[0] for sample in samples])
        to_ready = np.concatenate([sample[1] for sample in samples])
        median = float(np.median(to_command))
        lines.append(f'| {label} | {median:.2f} | {to_command.max():.2f} | '
                     f'{np.median(to_ready):.2f} | {to_ready.max():.2f} | '
                     f'{_verdict(median <= START_TARGET_S) if label == ROBOT_ROW else "-"} |')
    lines.append('')
    if requirements.is_file():
        lines += install_size_lines(requirements)
    else:
        lines.append(f'- install size: {requirements} not found (run from the repository root)')
    return '\n'.join(lines)


if __name__ == '__main__':
    print(run())
