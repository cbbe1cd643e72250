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

"""Small frozen actors made inside the tests, exported through the project's own exporter."""

from __future__ import annotations

from pathlib import Path

from poe_steer_lab.offline.export import export_actor
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ModelFormat, OutputSpec, Provenance
import torch

BASE_FIELDS = ('goal.dx_body', 'goal.dy_body', 'base.v', 'base.w')
BASE_ACTIONS = ('linear_x', 'angular_z')
BASE_BOUNDS = ((-0.5, -2.0), (1.0, 2.0))


class LinearBaseActor(torch.nn.Module):
    """A tanh-Gaussian mobile-base actor: mean and log-std both depend on the observation."""

    def __init__(self) -> None:
        super().__init__()
        self.mean = torch.nn.Linear(len(BASE_FIELDS), len(BASE_ACTIONS))
        self.log_std = torch.nn.Linear(len(BASE_FIELDS), len(BASE_ACTIONS))
        with torch.no_grad():
            self.mean.weight.copy_(torch.tensor([[0.4, 0.0, 0.2, 0.0], [0.0, 0.8, 0.0, 0.1]]))
            self.mean.bias.zero_()
            self.log_std.weight.mul_(0.1)
            self.log_std.bias.fill_(-1.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(obs), self.log_std(obs)


def export_linear_base_actor(folder: Path) -> Path:
    """Export ``LinearBaseActor`` as TorchScript with its manifest; return the manifest path."""
    manifests = export_actor(
        LinearBaseActor(), folder, observation_fields=BASE_FIELDS, action_names=BASE_ACTIONS,
        provenance=Provenance(dataset='none (hand-set weights)', algorithm='none',
                              objective='test fixture', created='2026-11-25'),
        action_bounds=BASE_BOUNDS, output=OutputSpec(OutputKind.TANH_GAUSSIAN),
        formats=(ModelFormat.TORCHSCRIPT,))
    return manifests[ModelFormat.TORCHSCRIPT]
