"""What a benchmark ran on, for the lines under its tables."""

import pathlib
import platform


def cpu_name() -> str:
    """Return the CPU model from /proc/cpuinfo, or what ``platform`` knows without it."""
    try:
        for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
