"""The parameter table: descriptors, defaults from the core, and the generated reference."""

from pathlib import Path
import subprocess
import sys

from poe_steer_ros.core.steerer import SteeringConfig
from poe_steer_ros.ros.parameters import PARAMETERS, SPECS, steering_config
import pytest

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
