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

"""A loaded actor that emits NaN in some states is caught by the Steerer's guard."""

from __future__ import annotations

import pathlib

from actor_support import ACTION, FIELDS, provenance
import numpy as np
from poe_steer_lab.offline.export import write_manifest
from poe_steer_ros.core.actor import FrozenActor, load_actor
from poe_steer_ros.core.compose import Rule
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ObservationSpec, OutputSpec
from poe_steer_ros.core.safety import Fallback, SafetyEnvelope
from poe_steer_ros.core.steerer import Steerer, SteeringConfig
from poe_steer_ros.core.torch_actor import quiet_torchscript
import pytest
import torch

SPEED_INDEX = FIELDS.index('base.v')
GOAL = np.array([2.0, 1.0])


class NanAboveSpeed(torch.nn.Module):
    """A Gaussian actor that breaks (NaN mean) once the observed speed exceeds 10 m/s."""

    def __init__(self) -> None:
        super().__init__()
        self.mean = torch.nn.Linear(len(FIELDS), 2)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        speed = obs[:, SPEED_INDEX:SPEED_INDEX + 1]
        broken = torch.where(speed > 10.0, torch.full_like(speed, float('nan')),
                             torch.zeros_like(speed))
        mean = self.mean(obs) + broken
        return mean, torch.full_like(mean, -1.0)


@pytest.fixture
def actor(tmp_path: pathlib.Path) -> FrozenActor:
    torch.manual_seed(0)
    with quiet_torchscript():
        torch.jit.trace(NanAboveSpeed(), torch.zeros(2, len(FIELDS))).save(
            str(tmp_path / 'fragile.pt'))
    manifest = write_manifest(tmp_path / 'fragile.pt', model_format='torchscript',
                              output=OutputSpec(OutputKind.TANH_GAUSSIAN),
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    return load_actor(manifest, device='cpu')


def state(speed: float) -> dict[str, float]:
    return {'base.x': 0.0, 'base.y': 0.0, 'base.yaw': 0.3, 'base.v': speed, 'base.w': 0.0}


@pytest.mark.parametrize('rule', [Rule.POE, Rule.FROZEN])
def test_nan_from_the_actor_triggers_the_fallback(actor: FrozenActor, rule: Rule) -> None:
    assert np.isnan(actor(actor.observation_layout.build(state(20.0), GOAL))[0]).all()
    envelope = SafetyEnvelope(np.asarray(ACTION.low), np.asarray(ACTION.high),
                              np.full(2, np.inf), fallback=Fallback.ZERO)
    steerer = Steerer(actor, actor.observation_layout.build, envelope, SteeringConfig(rule=rule))
    command, telemetry = steerer.step(state(0.2), GOAL, now_s=0.0)
    assert not telemetry.fallback_used
    assert np.isfinite(command).all() and np.any(command != 0.0)
    command, telemetry = steerer.step(state(20.0), GOAL, now_s=0.01)
    assert telemetry.fallback_used
    np.testing.assert_array_equal(command, envelope.zero_command())
