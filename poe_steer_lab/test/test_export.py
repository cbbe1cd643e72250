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

"""Export: our TorchScript/ONNX wrappers agree with the source; manifests certify them."""

from __future__ import annotations

import pathlib
from typing import Any

from actor_support import (ACTION, FIELDS, fit_d3rlpy, OBS_MEAN, OBS_STD,
                           offset_observations, provenance, small_encoder, tiny_dataset,
                           torch_outputs)
import d3rlpy
import numpy as np
from poe_steer_lab.offline.export import export_actor, ExportError
from poe_steer_ros.core.actor import load_actor, sha256_of
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ActorManifest, ModelFormat, OutputSpec, StdKind
from poe_steer_ros.core.torch_actor import GaussianMLP
import pytest
import torch

BOUNDS = (ACTION.low, ACTION.high)
D3_FIELDS = ('array.0', 'array.1', 'array.2')


@pytest.fixture(scope='module')
def iql() -> Any:
    encoder = small_encoder()
    config = d3rlpy.algos.IQLConfig(
        actor_encoder_factory=encoder, critic_encoder_factory=encoder,
        value_encoder_factory=encoder, batch_size=32,
        observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(),
        action_scaler=d3rlpy.preprocessing.MinMaxActionScaler())
    return fit_d3rlpy(config, tiny_dataset())


@pytest.fixture
def head_mlp() -> GaussianMLP:
    torch.manual_seed(0)
    return GaussianMLP(len(FIELDS), 2, [16, 16], std=StdKind.HEAD)


def test_torch_module_exports_agree_with_the_source(tmp_path: pathlib.Path,
                                                    head_mlp: GaussianMLP) -> None:
    manifests = export_actor(
        head_mlp, tmp_path, observation_fields=FIELDS, action_names=ACTION.names,
        provenance=provenance(), observation_stats=(OBS_MEAN, OBS_STD), action_bounds=BOUNDS,
        output=OutputSpec(OutputKind.TANH_GAUSSIAN))
    assert set(manifests) == {ModelFormat.TORCHSCRIPT, ModelFormat.ONNX}
    obs = np.asarray(OBS_MEAN) + np.asarray(OBS_STD) * np.random.default_rng(3).normal(
        size=(7, len(FIELDS)))
    expected = torch_outputs(head_mlp, (obs - OBS_MEAN) / np.asarray(OBS_STD))
    for model_format, path in manifests.items():
        manifest = ActorManifest.load(path)
        assert path == tmp_path / f'{manifest.file}.yaml'
        assert manifest.format is model_format
        assert manifest.sha256 == sha256_of(tmp_path / manifest.file)
        assert manifest.provenance == provenance()
        assert manifest.observation.normalization is not None
        assert manifest.observation.normalization.applied_in_model
        actor = load_actor(path, device='cpu')
        for got, want in zip(actor(obs), expected):
            np.testing.assert_allclose(got, want, atol=1e-5)
    assert head_mlp.training, 'export must not change the caller module'


def test_a_deterministic_module_exports_its_mean_only(tmp_path: pathlib.Path) -> None:
    torch.manual_seed(1)
    module = GaussianMLP(len(FIELDS), 2, [16], std=StdKind.NONE, mean_activation='tanh')
    manifests = export_actor(
        module, tmp_path, observation_fields=FIELDS, action_names=ACTION.names,
        provenance=provenance(), action_bounds=BOUNDS, formats=['torchscript'],
        output=OutputSpec(OutputKind.DETERMINISTIC, (0.25, 0.25)))
    actor = load_actor(manifests[ModelFormat.TORCHSCRIPT])
    assert actor.output_shapes == ((8, 2),)
    obs = offset_observations(4, len(FIELDS))
    mean, log_std = actor(obs)
    np.testing.assert_allclose(mean, torch_outputs(module, obs)[0], atol=1e-6)
    np.testing.assert_allclose(log_std, np.log(0.25))


def test_d3rlpy_exports_agree_with_predict_in_every_format(tmp_path: pathlib.Path,
                                                           iql: Any) -> None:
    manifests = export_actor(iql, tmp_path, observation_fields=D3_FIELDS,
                             action_names=ACTION.names, provenance=provenance(),
                             formats=('torchscript', 'onnx', 'd3rlpy'))
    obs = offset_observations(9, seed=4)
    greedy = iql.predict(obs.astype(np.float32))
    scaler = iql.config.action_scaler
    outputs = {}
    for model_format, path in manifests.items():
        actor = load_actor(path, device='cpu')
        assert actor.output_kind is OutputKind.GAUSSIAN
        np.testing.assert_allclose(actor.action_low, scaler.minimum, rtol=1e-6)
        np.testing.assert_allclose(actor.action_high, scaler.maximum, rtol=1e-6)
        mean, log_std = outputs[model_format] = actor(obs)
        command = (actor.action_high + actor.action_low) / 2 + (
            actor.action_high - actor.action_low) / 2 * np.clip(mean, -1, 1)
        np.testing.assert_allclose(command, greedy, atol=1e-5)
    for mean, log_std in outputs.values():
        np.testing.assert_allclose(log_std, outputs[ModelFormat.D3RLPY][1], atol=1e-6)


class BatchDependent(torch.nn.Module):
    """Python control flow on the batch size: tracing freezes the branch it saw."""

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = obs[:, :2] * (2.0 if obs.shape[0] > 4 else 1.0)
        return mean, torch.zeros_like(mean)


@pytest.mark.filterwarnings('ignore::torch.jit.TracerWarning')
def test_verification_catches_a_model_that_does_not_trace(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ExportError, match=r'exported mean differs from the source by'):
        export_actor(BatchDependent(), tmp_path, observation_fields=FIELDS,
                     action_names=ACTION.names, provenance=provenance(), action_bounds=BOUNDS,
                     output=OutputSpec(OutputKind.GAUSSIAN), formats=['torchscript'])


def _export_d3rlpy(algo: Any, tmp_path: pathlib.Path, fields: tuple[str, ...] = D3_FIELDS,
                   **kwargs: Any) -> None:
    kwargs.setdefault('formats', ['torchscript'])
    export_actor(algo, tmp_path, observation_fields=fields, action_names=ACTION.names,
                 provenance=provenance(), **kwargs)


@pytest.mark.parametrize('kwargs, message', [
    ({'output': OutputSpec(OutputKind.TANH_GAUSSIAN)},
     'output: kind tanh_gaussian differs from the d3rlpy iql policy, which is gaussian'),
    ({'observation_stats': ([0.0] * 3, [1.0] * 3)},
     'observation_stats: the d3rlpy algorithm has an observation scaler already'),
    ({'action_bounds': ([-1.0, -1.0], [1.0, 1.0])},
     'action_bounds: differ from the d3rlpy action scaler'),
    ({'fields': D3_FIELDS[:2]},
     r'observation_fields/action_names: the d3rlpy model maps 3 observations to 2 actions, '
     r'the names give 2 -> 2'),
    ({'formats': ['pickle']}, r"formats\[0\]: 'pickle' is not one of"),
])
def test_inconsistent_d3rlpy_exports_are_refused(iql: Any, tmp_path: pathlib.Path,
                                                 kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ExportError, match=message):
        _export_d3rlpy(iql, tmp_path, **kwargs)


def test_a_deterministic_d3rlpy_policy_needs_an_assumed_std(tmp_path: pathlib.Path) -> None:
    encoder = small_encoder()
    td3 = d3rlpy.algos.TD3PlusBCConfig(actor_encoder_factory=encoder,
                                       critic_encoder_factory=encoder).create(device='cpu:0')
    td3.create_impl((3,), 2)
    with pytest.raises(ExportError, match='output: d3rlpy td3_plus_bc has a deterministic policy'):
        _export_d3rlpy(td3, tmp_path)


@pytest.mark.parametrize('kwargs, message', [
    ({'output': None}, 'output and action_bounds: required to export a torch module'),
    ({'formats': ['d3rlpy']}, 'formats: d3rlpy is only possible for a d3rlpy source'),
    ({'observation_stats': ([0.0], [1.0])}, r'observation_stats: expected mean and std of '
                                            r'shape \(5,\)'),
    ({'action_bounds': ([0.0], [1.0])}, r'action_bounds: expected low and high of shape \(2,\)'),
])
def test_inconsistent_module_exports_are_refused(tmp_path: pathlib.Path, head_mlp: GaussianMLP,
                                                 kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {'output': OutputSpec(OutputKind.TANH_GAUSSIAN),
                                 'action_bounds': BOUNDS, 'formats': ['torchscript']}
    arguments.update(kwargs)
    with pytest.raises(ExportError, match=message):
        export_actor(head_mlp, tmp_path, observation_fields=FIELDS, action_names=ACTION.names,
                     provenance=provenance(), **arguments)


def test_a_source_with_the_wrong_action_count_is_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ExportError, match=r'source: mean has shape \(16, 3\), expected \(16, 2\)'):
        export_actor(GaussianMLP(len(FIELDS), 3, [8]), tmp_path, observation_fields=FIELDS,
                     action_names=ACTION.names, provenance=provenance(), action_bounds=BOUNDS,
                     output=OutputSpec(OutputKind.GAUSSIAN), formats=['torchscript'])
    with pytest.raises(ExportError, match='source: expected a torch.nn.Module or a d3rlpy'):
        export_actor(object(), tmp_path, observation_fields=FIELDS, action_names=ACTION.names,
                     provenance=provenance())
