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

"""What a benchmark or an evaluation ran on: the one "Machine:" line of every report."""

from importlib import metadata
import os
import pathlib
import platform

LIBRARIES = ('numpy', 'torch', 'onnxruntime', 'numba', 'mujoco')
"""The libraries whose versions the figures depend on, as far as they are installed."""


def cpu_name() -> str:
    """Return the CPU model from /proc/cpuinfo, or what ``platform`` knows without it."""
    try:
        for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts() -> str:
    """Return one line: CPU, CPU count, CUDA, torch threads, Python and library versions."""
    import torch

    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f'{name} {metadata.version(name)}')
        except metadata.PackageNotFoundError:
            continue
    return (f'{cpu_name()}, {os.cpu_count()} CPU(s) shared with other jobs, CUDA '
            f'{"available" if torch.cuda.is_available() else "absent"}, torch on '
            f'{torch.get_num_threads()} thread(s); Python {platform.python_version()}, '
            + ', '.join(versions))


def machine_footer() -> str:
    """Return the markdown paragraph that closes a report."""
    return f'Machine: {machine_facts()}.'
