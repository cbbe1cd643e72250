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
The README's ``ros2 param``, ``topic`` and ``service`` commands on the node the README launches.

Each test names the command lines it runs; the list of every command line in README.md and
docs/ with the test that runs it is in docs/operator-commands.md.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Iterator

from ament_index_python.packages import get_package_share_directory
from poe_steer_ros.ros.discovery import discovery_environment
from poe_steer_ros.ros.parameters import SPECS
import pytest
from ros2_tools import (COMMANDING, HAVE_TOOLS, Launch, launch_environment, param_set, parameter,
                        process_environment, ros2, SKIP_REASON, start, wait_for)
import yaml

pytestmark = [pytest.mark.ros, pytest.mark.skipif(not HAVE_TOOLS, reason=SKIP_REASON),
              pytest.mark.usefixtures('ros2_daemon')]


@pytest.fixture(scope='module')
def steer(tmp_path_factory) -> Iterator[Launch]:
    """README: ``ros2 launch poe_steer_ros steer.launch.py`` (default parameters and actor)."""
    log = tmp_path_factory.mktemp('steer') / 'launch.log'
    with Launch('ros2 launch poe_steer_ros steer.launch.py', log) as launch:
        yield start(launch, ready=COMMANDING)


def test_steer_launch_wires_the_node(steer) -> None:
    """``ros2 node info``: the remaps and the clear_goal service; the node lists every param."""
    wait_for(lambda: ros2('ros2 node info /poe_steer', check=False).returncode == 0, 30.0,
             'ros2 node info to find /poe_steer')
    info = ros2('ros2 node info /poe_steer').stdout
    subscribers = info.split('Subscribers:')[1].split('Publishers:')[0]
    publishers = info.split('Publishers:')[1].split('Service Servers:')[0]
    assert '/odom: nav_msgs/msg/Odometry' in subscribers
    assert '/goal_pose: geometry_msgs/msg/PoseStamped' in subscribers
    assert '/cmd_vel: geometry_msgs/msg/Twist' in publishers
    assert '/poe_steer/status: poe_steer_msgs/msg/SteeringStatus' in publishers
    assert '/poe_steer/clear_goal: std_srvs/srv/Trigger' in info
    listed = ros2('ros2 param list /poe_steer').stdout.split()
    assert set(SPECS) <= set(listed)
    environment = process_environment(steer.pids()['steer_node-1'])
    profile = Path(get_package_share_directory('poe_steer_ros'), 'config', 'fastdds_discovery.xml')
    expected = discovery_environment(str(profile), launch_environment())
    assert expected and all(environment.get(name) == value for name, value in expected.items())


def test_readme_retargeting_commands(steer) -> None:
    """README: the three ``ros2 param set`` lines and ``ros2 topic echo`` of the status."""
    for command in ('ros2 param set /poe_steer goal "[4.0, 1.5]"',
                    'ros2 param set /poe_steer steering.alpha 0.5',
                    'ros2 param set /poe_steer steering.rule frozen'):
        assert 'Set parameter successful' in param_set(command), command
    assert parameter('goal') == [4.0, 1.5]
    assert parameter('steering.alpha') == 0.5
    assert parameter('steering.rule') == 'frozen'
    status = ros2('ros2 topic echo --once /poe_steer/status').stdout
    assert 'rule: frozen' in status and '- 4.0' in status and '- 1.5' in status
    output = steer.output()
    assert 'parameter goal: [3, 0.5] -> [4, 1.5] accepted' in output
    assert 'parameter steering.alpha: 0.7 -> 0.5 accepted' in output
    assert 'array(' not in output
    ros2('ros2 param set /poe_steer steering.rule poe')


@pytest.mark.parametrize(('command', 'name', 'expected'), [
    ('ros2 param set /poe_steer goal "[4, 1]"', 'goal', [4.0, 1.0]),
    ('ros2 param set /poe_steer steering.alpha 1', 'steering.alpha', 1.0),
    ('ros2 param set /poe_steer goal "[4.0, 1]"', 'goal', [4.0, 1.0]),
    ('ros2 param set /poe_steer goal "[2, 0.5, 1]"', 'goal', [2.0, 0.5, 1.0]),
    ('ros2 param set /poe_steer goal "[]"', 'goal', []),
    ('ros2 param set /poe_steer prior.joint_names "[]"', 'prior.joint_names', []),
])
def test_param_set_accepts_what_the_cli_sends(steer, command, name, expected) -> None:
    """Integers for doubles, integer and mixed arrays for the goal, ``[]`` of any type."""
    ros2('ros2 param set /poe_steer goal "[3.0, 0.5]"')
    assert 'Set parameter successful' in param_set(command)
    assert parameter(name) == expected


@pytest.mark.parametrize(('command', 'reason'), [
    ('ros2 param set /poe_steer steering.alpha abc',
     'steering.alpha expects a number; got abc (a text)'),
    ('ros2 param set /poe_steer goal "[1, x]"', 'goal expects a list of numbers; got [1, x]'),
    ('ros2 param set /poe_steer steering.rule best', 'steering.rule must be one of frozen, poe'),
    ('ros2 param set /poe_steer actor.device cpu', 'actor.device is read-only'),
])
def test_refusals_name_the_parameter_type_and_value(steer, command, reason) -> None:
    output = param_set(command)
    assert 'Setting parameter failed' in output and reason in output, output
    assert "expected '" not in output


def test_clear_goal_service_and_empty_goal(steer) -> None:
    """``ros2 service call /poe_steer/clear_goal std_srvs/srv/Trigger`` empties the goal."""
    ros2('ros2 param set /poe_steer goal "[4.0, 1.5]"')
    answer = ros2('ros2 service call /poe_steer/clear_goal std_srvs/srv/Trigger').stdout
    assert 'success=True' in answer
    assert parameter('goal') == []
    status = ros2('ros2 topic echo --once /poe_steer/status').stdout
    assert 'detail: no goal set' in status or 'detail: state stale or missing' in status


def test_describe_shows_description_range_and_read_only(steer) -> None:
    text = ros2('ros2 param describe /poe_steer steering.alpha').stdout
    assert 'Prior weight of poe and additive' in text
    assert 'Min value: 0.0' in text and 'Max value: 1.0' in text
    text = ros2('ros2 param describe /poe_steer limits.command_low').stdout
    assert re.search(r'Parameter name: limits.command_low\s+Type: double array', text)
    assert 'Read only: true' in text


def test_dump_then_load_restores_the_runtime_settings(steer, tmp_path) -> None:
    """``ros2 param dump /poe_steer > poe_steer.yaml`` then ``ros2 param load`` of it."""
    for command in ('ros2 param set /poe_steer goal "[1.0, 2.0]"',
                    'ros2 param set /poe_steer steering.alpha 0.2',
                    'ros2 param set /poe_steer steering.rule kl'):
        ros2(command)
    ros2(f'cd {tmp_path} && ros2 param dump /poe_steer > poe_steer.yaml')
    dumped = yaml.safe_load((tmp_path / 'poe_steer.yaml').read_text())['/poe_steer'][
        'ros__parameters']
    flat = ros2('ros2 param list /poe_steer').stdout.split()
    assert set(SPECS) <= set(flat)
    assert dumped['goal'] == [1.0, 2.0] and dumped['prior']['joint_names'] == []
    for command in ('ros2 param set /poe_steer goal "[5.0, 5.0]"',
                    'ros2 param set /poe_steer steering.alpha 0.9',
                    'ros2 param set /poe_steer steering.rule frozen'):
        ros2(command)
    # rclpy 9.1.2 (Kilted) reads a file keyed by the node's name wrongly (rclpy#1550): the
    # docs tell users to key it /** as here; Jazzy loads either.
    text = (tmp_path / 'poe_steer.yaml').read_text().replace('/poe_steer:', '/**:', 1)
    (tmp_path / 'poe_steer.yaml').write_text(text)
    warnings_before = steer.output().count('[WARN]')
    output_before = len(steer.output())
    loaded = ros2(f'cd {tmp_path} && ros2 param load /poe_steer poe_steer.yaml')
    assert 'failed' not in loaded.stdout + loaded.stderr, loaded.stdout + loaded.stderr
    assert parameter('goal') == [1.0, 2.0]
    assert parameter('steering.alpha') == 0.2
    assert parameter('steering.rule') == 'kl'
    new_warnings = steer.output().split('[WARN]')[1 + warnings_before:]
    assert not [line for line in new_warnings if 'parameter' in line.split('\n')[0]]
    read_only = [name for name, spec in SPECS.items() if spec.read_only]
    logged = steer.output()[output_before:]
    assert not [name for name in read_only if f'parameter {name}: ' in logged]
    ros2('ros2 param set /poe_steer steering.rule poe')


def test_missing_state_is_warned_naming_the_topic(steer) -> None:
    wait_for(lambda: 'no state received on /odom' in steer.output(), 30.0, 'the warning')
    ros2('ros2 param set /poe_steer goal "[4.0, 1.5]"')
    ros2('timeout 5 ros2 topic pub -r 20 /odom nav_msgs/msg/Odometry '
         '"{header: {frame_id: odom}, pose: {pose: {orientation: {w: 1.0}}}}"', check=False)
    wait_for(lambda: 'state on /odom is stale' in steer.output(), 30.0,
             f'the stopped-state warning:\n{steer.output()}')
