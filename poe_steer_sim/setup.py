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

"""Install rules of the poe_steer_sim ament_python package."""

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'poe_steer_sim'


def share(folder: str, pattern: str = '*') -> tuple[str, list[str]]:
    """Install every file of ``folder`` matching ``pattern`` into the package's share folder."""
    return (os.path.join('share', PACKAGE, folder),
            [path for path in glob(os.path.join(folder, pattern)) if os.path.isfile(path)])


setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        share('launch', '*.launch.py'),
        share('config', '*.yaml'),
        share('worlds'),
    ],
    install_requires=['setuptools'],
    extras_require={'test': ['pytest', 'pytest-timeout', 'hypothesis']},
    zip_safe=True,
    maintainer='poe_steer_ros maintainers',
    maintainer_email='maintainers@poe-steer-ros.dev',
    description='Closed-form Product-of-Experts steering of a frozen robot policy: simulation.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'mujoco_sim = poe_steer_sim.mujoco_sim_node:main',
            'path_planner = poe_steer_sim.path_planner_node:main',
        ],
    },
)
