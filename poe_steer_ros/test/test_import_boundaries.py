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
Import boundaries, checked in processes where the forbidden packages cannot load.

core/ never imports rclpy. The runtime (every module of poe_steer_ros) imports nothing from the
simulation and the lab packages, nor the libraries only they need; the robot installs none. Only
the module of the torch actor formats imports torch.
"""

import os
import pathlib
import subprocess
import sys
import textwrap

import poe_steer_ros
import pytest

SIM_AND_LAB = ('poe_steer_sim', 'poe_steer_lab', 'mujoco', 'd3rlpy', 'gymnasium', 'matplotlib',
               'tqdm')
"""What only the simulation and the lab use; the runtime must not load any of it."""
BLOCKED_IMPORT_SCRIPT = textwrap.dedent('''
    import importlib
    import pkgutil
    import sys

    package_name, rest = sys.argv[1], ' '.join(sys.argv[2:])
    blocked, _, skipped = (tuple(part.split()) for part in rest.partition(' -- '))


    class Blocker:
        """Refuse the blocked packages and their submodules, as on a machine without them."""

        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in blocked:
                raise ImportError(f'{name} is blocked: {package_name} must not import it')
            return None


    sys.meta_path.insert(0, Blocker())
    package = importlib.import_module(package_name)
    names = sorted(module.name for module in pkgutil.walk_packages(package.__path__,
                                                                   package_name + '.'))
    for name in names:
        if name not in skipped:
            importlib.import_module(name)
    loaded = sorted(name for name in sys.modules if name.split('.')[0] in blocked)
    assert not loaded, f'loaded: {loaded}'
    print('\\n'.join(names))
''')
TORCH_MODULES = ('poe_steer_ros.core.torch_actor',)
"""Modules that run the torch actor formats, imported only when such a format is chosen."""
PACKAGE_DIR = pathlib.Path(poe_steer_ros.__file__).resolve().parent


def _import_all(package: str, blocked: tuple[str, ...],
                skipped: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Import every module of ``package`` but ``skipped`` in a process where ``blocked`` fail."""
    environment = dict(os.environ)
    environment['PYTHONPATH'] = os.pathsep.join(
        filter(None, [str(PACKAGE_DIR.parent), environment.get('PYTHONPATH')]))
    return subprocess.run(
        [sys.executable, '-c', BLOCKED_IMPORT_SCRIPT, package, *blocked, '--', *skipped],
        env=environment, capture_output=True, text=True, timeout=300)


def _modules(folder: pathlib.Path, prefix: str) -> set[str]:
    """Return the dotted names of the Python modules under ``folder``."""
    return {prefix + '.'.join(path.relative_to(folder).with_suffix('').parts)
            for path in folder.rglob('*.py') if path.stem != '__init__'}


def test_every_core_module_imports_without_rclpy():
    result = _import_all('poe_steer_ros.core', ('rclpy',))
    assert result.returncode == 0, result.stderr
    assert _modules(PACKAGE_DIR / 'core', 'poe_steer_ros.core.') <= set(result.stdout.split())


def test_every_runtime_module_imports_without_the_simulation_and_the_lab():
    result = _import_all('poe_steer_ros', SIM_AND_LAB)
    assert result.returncode == 0, result.stderr
    assert _modules(PACKAGE_DIR, 'poe_steer_ros.') <= set(result.stdout.split())


def test_every_runtime_module_but_the_torch_formats_imports_without_torch():
    result = _import_all('poe_steer_ros', ('torch',), TORCH_MODULES)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize('blocked', ['rclpy', 'mujoco'])
def test_the_blocker_really_blocks(blocked):
    script = BLOCKED_IMPORT_SCRIPT.replace('package = importlib.import_module(package_name)',
                                           f'import {blocked}')
    result = subprocess.run([sys.executable, '-c', script, 'x', blocked, '--'],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and 'blocked' in result.stderr
