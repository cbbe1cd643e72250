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
Small hand-set frozen actors for the reliability runs, one per state message type.

The runs must not depend on the shipped default actor (it may still be in training), so each
run exports one of these through the project's own exporter and points the node at it. The
weights are fixed numbers, not trained: what matters is that every output stays a function of
the observation (mean and log-std), so that fuzzed states reach the whole pipeline.
"""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path

from poe_steer_lab.offline.export import export_actor
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ModelFormat, OutputSpec, Provenance
import torch

JOINT_NAMES = ('shoulder', 'elbow')
"""Joints of the joint-space actor, in command order."""


class FixtureKind(str, enum.Enum):
    """Which state message the actor's node reads."""

    BASE = 'base'
    """A mobile base on nav_msgs/Odometry, commanding a Twist."""
    JOINT = 'joint'
    """Two joints on sensor_msgs/JointState, commanding joint velocities."""
    ARRAY = 'array'
    """Raw observation slots on std_msgs/Float64MultiArray."""


@dataclasses.dataclass(frozen=True)
class FixtureActor:
    """Everything the exporter needs to know about one fixture, plus its linear weights."""

    fields: tuple[str, ...]
    actions: tuple[str, ...]
    bounds: tuple[tuple[float, ...], tuple[float, ...]]
    """(low, high) command bounds per action, command units."""
    output: OutputKind
    mean_weights: tuple[tuple[float, ...], ...]
    """One row per action: the pre-squash mean is ``mean_weights @ obs``."""
    goal_joints: tuple[str, ...] = ()


FIXTURES = {
    FixtureKind.BASE: FixtureActor(
        fields=('goal.dx_body', 'goal.dy_body', 'base.v', 'base.w'),
        actions=('linear_x', 'angular_z'), bounds=((-0.5, -2.0), (1.0, 2.0)),
        output=OutputKind.TANH_GAUSSIAN,
        mean_weights=((0.4, 0.0, 0.2, 0.0), (0.0, 0.8, 0.0, 0.1))),
    FixtureKind.JOINT: FixtureActor(
        fields=tuple(f'goal.joint_error.{name}' for name in JOINT_NAMES)
        + tuple(f'joint.velocity.{name}' for name in JOINT_NAMES),
        actions=JOINT_NAMES, bounds=((-1.0, -1.0), (1.0, 1.0)),
        output=OutputKind.TANH_GAUSSIAN,
        mean_weights=((1.5, 0.0, -0.2, 0.0), (0.0, 1.5, 0.0, -0.2)),
        goal_joints=JOINT_NAMES),
    FixtureKind.ARRAY: FixtureActor(
        fields=('array.0', 'array.1', 'array.2', 'goal.0'),
        actions=('u0', 'u1'), bounds=((-1.0, -1.0), (1.0, 1.0)),
        output=OutputKind.GAUSSIAN,
        mean_weights=((0.5, -0.3, 0.0, 0.2), (0.0, 0.4, 0.6, -0.2))),
}


class LinearGaussianActor(torch.nn.Module):
    """Pre-squash mean and log-std, both linear in the observation (so the std varies)."""

    def __init__(self, mean_weights: tuple[tuple[float, ...], ...]) -> None:
        super().__init__()
        weights = torch.tensor(mean_weights, dtype=torch.float32)
        self.mean = torch.nn.Linear(weights.shape[1], weights.shape[0], bias=False)
        self.log_std = torch.nn.Linear(weights.shape[1], weights.shape[0])
        with torch.no_grad():
            self.mean.weight.copy_(weights)
            self.log_std.weight.copy_(0.05 * weights.abs())
            self.log_std.bias.fill_(-1.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(obs), self.log_std(obs)


def export_fixture_actor(kind: FixtureKind, folder: Path) -> Path:
    """
    Export the fixture actor of ``kind`` as TorchScript with its manifest.

    :param kind: which fixture.
    :param folder: where the model and its manifest go (created if needed).
    :returns: the manifest path, for the node's ``actor.manifest``.
    """
    fixture = FIXTURES[FixtureKind(kind)]
    manifests = export_actor(
        LinearGaussianActor(fixture.mean_weights), folder, observation_fields=fixture.fields,
        action_names=fixture.actions, goal_joints=fixture.goal_joints,
        provenance=Provenance(dataset='none (hand-set weights)', algorithm='none',
                              objective='reliability fixture', created='2026-11-25'),
        action_bounds=fixture.bounds, output=OutputSpec(fixture.output),
        name=f'{kind.value}_actor', formats=(ModelFormat.TORCHSCRIPT,))
    return manifests[ModelFormat.TORCHSCRIPT]
