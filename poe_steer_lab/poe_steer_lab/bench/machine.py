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
