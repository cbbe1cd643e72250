"""core/ never imports rclpy: import every core module in a process where rclpy cannot load."""

import os
import pathlib
import subprocess
import sys
import textwrap

import poe_steer_ros.core

BLOCKED_IMPORT_SCRIPT = textwrap.dedent('''
    import importlib
    import pkgutil
    import sys


    class BlockRclpy:
        """Refuse rclpy and its submodules, as on a machine without ROS."""

        def find_spec(self, name, path=None, target=None):
            if name == 'rclpy' or name.startswith('rclpy.'):
                raise ImportError(f'{name} is blocked: core must not import rclpy')
            return None


    sys.meta_path.insert(0, BlockRclpy())
    import poe_steer_ros.core as core
    names = sorted(module.name for module in pkgutil.walk_packages(core.__path__,
                                                                   'poe_steer_ros.core.'))
    for name in names:
        importlib.import_module(name)
    assert not any(name == 'rclpy' or name.startswith('rclpy.') for name in sys.modules)
    print('\\n'.join(names))
''')


def test_every_core_module_imports_without_rclpy():
    package_root = pathlib.Path(poe_steer_ros.core.__file__).resolve().parents[2]
    environment = dict(os.environ)
    environment['PYTHONPATH'] = os.pathsep.join(
        filter(None, [str(package_root), environment.get('PYTHONPATH')]))
    result = subprocess.run([sys.executable, '-c', BLOCKED_IMPORT_SCRIPT], env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.split())
    expected = {f'poe_steer_ros.core.{path.stem}'
                for path in pathlib.Path(poe_steer_ros.core.__file__).parent.glob('*.py')
                if path.stem != '__init__'}
    assert expected <= imported


def test_the_blocker_really_blocks_rclpy():
    script = BLOCKED_IMPORT_SCRIPT.split('import poe_steer_ros.core')[0] + 'import rclpy\n'
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0 and 'blocked' in result.stderr
