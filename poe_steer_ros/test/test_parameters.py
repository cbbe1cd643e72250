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

"""The parameter table: descriptors, defaults from the core, and the generated reference."""

import array
from pathlib import Path
import subprocess
import sys

from poe_steer_ros.core.actor import DEVICES
from poe_steer_ros.core.manifest import ModelFormat
from poe_steer_ros.core.priors import goal_problem, PriorConfig, PriorType
from poe_steer_ros.core.steerer import SteeringConfig
from poe_steer_ros.ros.parameters import PARAMETERS, plain, SPECS, steering_config
import pytest
from rclpy.parameter import Parameter

DOCS = Path(__file__).resolve().parents[2] / 'docs' / 'parameters.md'


def test_every_parameter_has_a_description_and_read_only_envelope() -> None:
    assert all(spec.description for spec in PARAMETERS)
    for name in ('limits.command_low', 'limits.command_high', 'limits.max_rate_per_s',
                 'limits.alpha_max', 'limits.fallback', 'actor.manifest', 'control.rate_hz',
                 'state.type', 'command.type'):
        assert SPECS[name].read_only, name


def test_steering_defaults_come_from_the_core() -> None:
    defaults = {spec.name: spec.default for spec in PARAMETERS}
    assert steering_config(defaults) == SteeringConfig()


def test_choices_are_checked_with_a_reason() -> None:
    with pytest.raises(ValueError, match='steering.rule'):
        SPECS['steering.rule'].check('fastest')
    SPECS['steering.rule'].check('kl')


def test_docs_reference_is_current() -> None:
    if not DOCS.is_file():
        pytest.skip(f'{DOCS} is not beside this checkout (installed package only)')
    generated = subprocess.run([sys.executable, '-m', 'poe_steer_ros.ros.parameters'],
                               check=True, capture_output=True, text=True).stdout
    assert DOCS.read_text() == generated, \
        'docs/parameters.md is stale: python -m poe_steer_ros.ros.parameters > docs/parameters.md'


def test_choices_come_from_the_core() -> None:
    assert SPECS['actor.device'].choice_values == DEVICES
    assert set(SPECS['actor.format'].choice_values) == {'auto', *(f.value for f in ModelFormat)}
    assert SPECS['prior.type'].choice_values == tuple(kind.value for kind in PriorType)


@pytest.mark.parametrize(('name', 'sent', 'expected'), [
    ('steering.alpha', Parameter('steering.alpha', value=1), 1.0),
    ('goal', Parameter('goal', value=[4, 1]), [4.0, 1.0]),
    ('goal', Parameter('goal', value='[4.0, 1]'), [4.0, 1.0]),
    ('goal', Parameter('goal', Parameter.Type.BOOL_ARRAY, []), []),
    ('prior.joint_names', Parameter('prior.joint_names', Parameter.Type.INTEGER_ARRAY, []), []),
    ('goal', Parameter('goal', value=array.array('d', [1.0, 2.0])), [1.0, 2.0]),
])
def test_what_ros2_param_set_sends_is_converted(name, sent, expected) -> None:
    parameter = SPECS[name].coerce(sent)
    assert parameter.type_ == Parameter.Type(SPECS[name].ros_type)
    assert list(parameter.value) == expected if isinstance(expected, list) else \
        parameter.value == expected


@pytest.mark.parametrize(('name', 'sent', 'reason'), [
    ('steering.alpha', Parameter('steering.alpha', value='abc'),
     'steering.alpha expects a number; got abc (a text)'),
    ('goal', Parameter('goal', value='[1, x]'), 'goal expects a list of numbers; got [1, x]'),
    ('goal', Parameter('goal', value=[True, False]), 'goal expects a list of numbers'),
    ('seed', Parameter('seed', value=1.5), 'seed expects a whole number; got 1.5 (a number)'),
])
def test_refusals_are_plain_words(name, sent, reason) -> None:
    with pytest.raises(ValueError) as error:
        SPECS[name].coerce(sent)
    assert str(error.value) == reason or str(error.value).startswith(reason)


def test_values_print_as_plain_lists_and_numbers() -> None:
    assert plain(array.array('d', [4.0, 1.5])) == '[4, 1.5]'
    assert plain(0.7) == '0.7' and plain(None) == 'unset' and plain(True) == 'true'
    assert plain('poe') == 'poe'
    assert plain('x\n[INFO] forged') == repr('x\n[INFO] forged')


def test_goal_problems_are_named() -> None:
    pose = PriorConfig()
    assert goal_problem([], 2, pose) == ''
    assert goal_problem([4.0, 1.5], 2, pose) == ''
    assert 'finite' in goal_problem([float('nan'), 1.0], 2, pose)
    assert 'the actor observes 3' in goal_problem([1.0, 2.0], 3, pose)
    joint = PriorConfig(type=PriorType.JOINT, joint_names=('a', 'b'))
    assert 'one position per prior.joint_names' in goal_problem([1.0, 2.0, 3.0], 2, joint)
