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

"""poe_steer_msgs: every field documented, and messages cross process boundaries over DDS."""

from pathlib import Path
import re
import subprocess
import sys
import textwrap

from ament_index_python.packages import get_package_share_directory
from poe_steer_lab.ros.client import RosClient
from poe_steer_msgs.msg import GoalPrior, SteeringStatus
import pytest

FIELD_LINE = re.compile(r'^(?P<type>[\w/\[\]<=]+)\s+(?P<name>\w+)(?P<rest>.*)$')


def message_file(name: str) -> Path:
    return Path(get_package_share_directory('poe_steer_msgs')) / 'msg' / f'{name}.msg'


@pytest.mark.parametrize('name', ['SteeringStatus', 'GoalPrior'])
def test_every_field_and_constant_carries_a_comment(name: str) -> None:
    undocumented = []
    for line in message_file(name).read_text().splitlines():
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        match = FIELD_LINE.match(line.strip())
        assert match, f'{name}.msg: unparsable line {line!r}'
        if '#' not in match['rest'] or not match['rest'].split('#', 1)[1].strip():
            undocumented.append(match['name'])
    assert not undocumented, f'{name}.msg fields without a comment: {undocumented}'


def test_generated_types_have_the_documented_fields() -> None:
    status_fields = SteeringStatus.get_fields_and_field_types()
    for field in ('rule', 'alpha', 'beta', 'kl_to_actor', 'effective_prior_weight',
                  'actor_mean', 'actor_std', 'prior_mean', 'prior_std', 'composed_mean',
                  'composed_std', 'command', 'goal', 'state_age_s', 'stale_state',
                  'fallback_used', 'command_clamped', 'tick_latency_s', 'actor_sha256'):
        assert field in status_fields, field
    prior_fields = GoalPrior.get_fields_and_field_types()
    for field in ('header', 'space', 'mean', 'std', 'covariance', 'weight', 'expiry'):
        assert field in prior_fields, field
    assert GoalPrior.SPACE_COMMAND != GoalPrior.SPACE_PRE_SQUASH


PUBLISHER = textwrap.dedent("""
    import sys
    import rclpy
    from poe_steer_msgs.msg import SteeringStatus
    rclpy.init()
    node = rclpy.create_node('status_publisher')
    publisher = node.create_publisher(SteeringStatus, 'probe_status', 10)
    message = SteeringStatus(rule='poe', alpha=0.25, beta=1.0 / 3.0, command=[0.4, -0.2],
                             action_names=['linear_x', 'angular_z'], stale_state=True)
    for count in range(400):
        message.header.frame_id = f'count_{count}'
        publisher.publish(message)
        rclpy.spin_once(node, timeout_sec=0.025)
    rclpy.shutdown()
""")


@pytest.mark.ros
def test_steering_status_crosses_processes_over_dds() -> None:
    with RosClient('status_listener') as client:
        received = client.record(SteeringStatus, 'probe_status')
        publisher = subprocess.Popen([sys.executable, '-c', PUBLISHER])
        try:
            assert client.spin_until(lambda: len(received.messages) >= 3, timeout_s=20.0), \
                'no SteeringStatus arrived from the publisher process'
        finally:
            publisher.kill()
            publisher.wait()
    message = received.latest
    assert message.rule == 'poe'
    assert message.alpha == pytest.approx(0.25)
    assert list(message.command) == pytest.approx([0.4, -0.2])
    assert list(message.action_names) == ['linear_x', 'angular_z']
    assert message.stale_state is True
    assert message.header.frame_id.startswith('count_')
