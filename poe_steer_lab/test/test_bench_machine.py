"""The one "Machine:" footer of the benchmark, evaluation and reliability reports."""

import os

import numpy as np
from poe_steer_lab.bench.machine import machine_footer


def test_the_footer_names_the_cpus_and_the_installed_libraries():
    footer = machine_footer()
    assert footer.startswith('Machine: ') and f'{os.cpu_count()} CPU(s)' in footer
    assert f'numpy {np.__version__}' in footer and 'mujoco ' in footer
