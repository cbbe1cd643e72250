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
The README's and docs' launch, run and lifecycle commands, with the real ``ros2`` tools.

Each test names the command lines it runs; the list of every command line in README.md and
docs/ with the test that runs it is in docs/operator-commands.md.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
import shutil
import signal
import time

import pytest
from ros2_tools import (COMMANDING, HAVE_TOOLS, Launch, node_names, parameter, process_environment,
                        ros2, SKIP_REASON, start, START_TIMEOUT_S, STEER_SHARE, wait_for)

pytestmark = [pytest.mark.ros, pytest.mark.skipif(not HAVE_TOOLS, reason=SKIP_REASON),
              pytest.mark.usefixtures('ros2_daemon')]


def test_launch_arguments(tmp_path) -> None:
    """namespace, use_sim_time, actor_manifest, params_file and ``fastdds_profile:=none``."""
    manifest = ros2(f'echo {STEER_SHARE}/models/default_actor.pt.yaml').stdout.strip()
    command = (f'ros2 launch poe_steer_ros steer.launch.py namespace:=robot1 use_sim_time:=true '
               f'actor_manifest:={manifest} params_file:={STEER_SHARE}/config/steer.yaml '
               'fastdds_profile:=none')
    with Launch(command, tmp_path / 'launch.log') as launch:
        start(launch, '/robot1/poe_steer', COMMANDING)
        assert parameter('use_sim_time', '/robot1/poe_steer') is True
        assert parameter('actor.manifest', '/robot1/poe_steer') == manifest
        info = ros2('ros2 node info /robot1/poe_steer').stdout
        assert '/robot1/odom: nav_msgs/msg/Odometry' in info
        assert '/robot1/cmd_vel: geometry_msgs/msg/Twist' in info
        environment = process_environment(launch.pids()['steer_node-1'])
        assert 'FASTDDS_DEFAULT_PROFILES_FILE' not in environment


def test_a_missing_params_file_stops_the_launch(tmp_path) -> None:
    with Launch('ros2 launch poe_steer_ros steer.launch.py params_file:=/nonexistent.yaml',
                tmp_path / 'launch.log') as launch:
        assert launch.wait(START_TIMEOUT_S) != 0
        assert 'params_file /nonexistent.yaml does not exist' in launch.output()
        assert 'process started' not in launch.output()


def stop_signals_blocked(pid: int) -> bool:
    """Return whether SIGINT and SIGTERM are blocked in ``pid`` (``env --block-signal`` ran)."""
    fields = dict(line.split(':', 1) for line in
                  Path(f'/proc/{pid}/status').read_text().splitlines() if ':' in line)
    both = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    return int(fields['SigBlk'], 16) & both == both


def test_ctrl_c_as_the_node_starts_stops_it_cleanly(tmp_path) -> None:
    """
    Ctrl-C at ``ros2 launch poe_steer_ros steer.launch.py`` while the node's interpreter starts.

    Sent as soon as the launch prefix has blocked the signals, a few milliseconds after the
    spawn: before that only ``env`` itself is starting (docs/security.md).
    """
    with Launch('ros2 launch poe_steer_ros steer.launch.py', tmp_path / 'launch.log') as launch:
        deadline = time.monotonic() + START_TIMEOUT_S
        while 'steer_node-1' not in launch.pids() and time.monotonic() < deadline:
            time.sleep(0.001)
        pid = launch.pids()['steer_node-1']
        while not stop_signals_blocked(pid) and time.monotonic() < deadline:
            time.sleep(0.0005)
        assert stop_signals_blocked(pid), launch.output()
        launch.stop()
        output = launch.output()
    assert 'Traceback' not in output, output
    assert 'process has finished cleanly' in output, output


def test_show_args_lists_every_argument_described() -> None:
    for package, launch_file, arguments in (
            ('poe_steer_ros', 'steer.launch.py', ('params_file', 'namespace', 'use_sim_time',
                                                  'actor_manifest', 'fastdds_profile',
                                                  'managed')),
            ('poe_steer_sim', 'sim_mujoco.launch.py', ('real_time_factor', 'params_file',
                                                       'namespace', 'use_sim_time',
                                                       'managed'))):
        text = ros2(f'ros2 launch {package} {launch_file} --show-args').stdout
        for argument in arguments:
            assert f"'{argument}':" in text, (launch_file, argument)


def test_sim_mujoco_launch_applies_namespace_and_clock_to_both_nodes(tmp_path) -> None:
    """README: ``ros2 launch poe_steer_sim sim_mujoco.launch.py`` with namespace/use_sim_time."""
    command = ('ros2 launch poe_steer_sim sim_mujoco.launch.py namespace:=robot1 '
               'use_sim_time:=false')
    with Launch(command, tmp_path / 'launch.log') as launch:
        start(launch, '/robot1/poe_steer', COMMANDING)
        wait_for(lambda: '/robot1/mujoco_sim' in node_names(), START_TIMEOUT_S,
                 'the simulator in the namespace')
        for node in ('/robot1/poe_steer', '/robot1/mujoco_sim'):
            assert parameter('use_sim_time', node) is False, node
        ros2('ros2 topic echo --once /robot1/odom', timeout_s=30.0)
        ros2('ros2 topic echo --once /robot1/poe_steer/status', timeout_s=30.0)


def test_sim_mujoco_launch_default_runs_on_sim_time(tmp_path) -> None:
    with Launch('ros2 launch poe_steer_sim sim_mujoco.launch.py',
                tmp_path / 'launch.log') as launch:
        start(launch, ready=COMMANDING)
        for node in ('/poe_steer', '/mujoco_sim'):
            assert parameter('use_sim_time', node) is True, node
        ros2('ros2 topic echo --once /clock', timeout_s=30.0)
        wait_for(lambda: 'stale_state: false' in ros2(
            'ros2 topic echo --once /poe_steer/status').stdout, 60.0,
            f'steering on fresh simulated state:\n{launch.output()}')


def test_ros2_run_with_the_installed_parameter_file(tmp_path) -> None:
    """
    README, security section: ``ros2 run poe_steer_ros steer_node --ros-args --enclave ...``.

    Without ``ROS_SECURITY_ENABLE`` the enclave is not used, so the line runs as typed.
    """
    command = ('ros2 run poe_steer_ros steer_node --ros-args --enclave /poe_steer \\\n'
               f'    --params-file {STEER_SHARE}/config/steer.yaml \\\n'
               '    -r state:=odom -r command:=cmd_vel')
    with Launch(command, tmp_path / 'run.log') as run:
        start(run, ready=COMMANDING)
        assert parameter('limits.command_high') == [1.0, 2.0]
        assert run.stop() == 0
    assert 'stopped; zero command sent' in run.output()


def test_ros2_run_mujoco_sim_with_its_parameter_file(tmp_path) -> None:
    """config/sim_mujoco.yaml's header: ``ros2 run poe_steer_sim mujoco_sim --ros-args ...``."""
    command = ('ros2 run poe_steer_sim mujoco_sim --ros-args --params-file '
               '$(ros2 pkg prefix poe_steer_sim)/share/poe_steer_sim/config/sim_mujoco.yaml')
    with Launch(command, tmp_path / 'run.log') as run:
        start(run, '/mujoco_sim')
        assert parameter('odom_rate_hz', '/mujoco_sim') == 50.0


def test_discovery_profile_export_names_an_installed_file() -> None:
    """README: ``export FASTDDS_DEFAULT_PROFILES_FILE=$(ros2 pkg prefix poe_steer_ros)/...``."""
    ros2('export FASTDDS_DEFAULT_PROFILES_FILE=$(ros2 pkg prefix poe_steer_ros)/share/'
         'poe_steer_ros/config/fastdds_discovery.xml && test -f "$FASTDDS_DEFAULT_PROFILES_FILE"')


@pytest.mark.skipif(importlib.util.find_spec('ros_gz_sim') is None and not shutil.which('gz'),
                    reason='Gazebo and ros_gz are not installable in this environment (no apt '
                    'ROS 2); sim_gazebo.launch.py is checked statically in test_launch.py')
def test_sim_gazebo_launch_shows_its_arguments() -> None:
    """README: ``ros2 launch poe_steer_sim sim_gazebo.launch.py`` (its arguments)."""
    text = ros2('ros2 launch poe_steer_sim sim_gazebo.launch.py --show-args').stdout
    assert "'gui':" in text and "'params_file':" in text


def test_ros2_run_poe_steer_inspect() -> None:
    """README/docs: ``ros2 run poe_steer_ros poe-steer inspect MANIFEST``."""
    result = ros2(f'ros2 run poe_steer_ros poe-steer inspect '
                  f'{STEER_SHARE}/models/default_actor.pt.yaml')
    assert 'default_actor' in result.stdout


def lifecycle_state() -> str:
    return ros2('ros2 lifecycle get /poe_steer').stdout.split()[0]


def test_managed_node_driven_by_ros2_lifecycle_set(tmp_path) -> None:
    """``managed:=true``; ``ros2 lifecycle set /poe_steer configure|activate|...``."""
    with Launch('ros2 launch poe_steer_ros steer.launch.py managed:=true',
                tmp_path / 'launch.log') as launch:
        start(launch)
        assert lifecycle_state() == 'unconfigured'
        assert 'steering.alpha' in ros2('ros2 param list /poe_steer').stdout
        assert '/cmd_vel' not in ros2('ros2 topic list').stdout.split()
        ros2('ros2 lifecycle set /poe_steer configure')
        assert lifecycle_state() == 'inactive'
        assert 'warm-up median' in launch.output()
        ros2('ros2 lifecycle set /poe_steer activate')
        assert lifecycle_state() == 'active'
        ros2('ros2 topic echo --once /cmd_vel', timeout_s=30.0)
        ros2('ros2 lifecycle set /poe_steer deactivate')
        assert lifecycle_state() == 'inactive'
        assert 'deactivated; zero command sent' in launch.output()
        ros2('ros2 lifecycle set /poe_steer cleanup')
        assert lifecycle_state() == 'unconfigured'
        ros2('ros2 lifecycle set /poe_steer shutdown')
        assert lifecycle_state() == 'finalized'


def test_managed_node_driven_by_the_lifecycle_services(tmp_path) -> None:
    """A lifecycle manager's calls: ``~/change_state`` and ``~/get_state`` services."""
    with Launch('ros2 launch poe_steer_ros steer.launch.py managed:=true',
                tmp_path / 'launch.log') as launch:
        start(launch)
        for transition, state in ((1, 'inactive'), (3, 'active'), (4, 'inactive'),
                                  (3, 'active')):
            answer = ros2('ros2 service call /poe_steer/change_state '
                          f'lifecycle_msgs/srv/ChangeState "{{transition: {{id: {transition}}}}}"')
            assert 'success=True' in answer.stdout, answer.stdout
            got = ros2('ros2 service call /poe_steer/get_state lifecycle_msgs/srv/GetState')
            assert f"label='{state}'" in got.stdout
        assert launch.stop() == 0
        assert 'stopped; zero command sent' in launch.output()
