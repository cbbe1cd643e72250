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

"""Actor runtime with models made here: TorchScript, ONNX, state_dict, deterministic actors."""

from __future__ import annotations

import pathlib

from actor_support import ACTION, FIELDS, flip_byte, OBS_MEAN, OBS_STD, provenance
from actor_support import torch_outputs
import numpy as np
import onnx
from poe_steer_lab.offline.export import write_manifest
from poe_steer_ros.core.actor import ActorLoadError, DeviceFallbackWarning, load_actor
from poe_steer_ros.core.interfaces import Actor, OutputKind
from poe_steer_ros.core.manifest import (ArchitectureSpec, ModelFormat, Normalization,
                                         ObservationSpec, OutputSpec, StdKind)
from poe_steer_ros.core.torch_actor import GaussianMLP, quiet_torchscript
import pytest
import torch

IN_MODEL = ObservationSpec(FIELDS, (), Normalization(OBS_MEAN, OBS_STD, applied_in_model=True))
BY_LOADER = ObservationSpec(FIELDS, (), Normalization(OBS_MEAN, OBS_STD, applied_in_model=False))
TANH = OutputSpec(OutputKind.TANH_GAUSSIAN)


def raw_observations(rows: int, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(size=(rows, len(FIELDS)))
    return np.asarray(OBS_MEAN) + np.asarray(OBS_STD) * noise


def normalised(obs: np.ndarray) -> np.ndarray:
    return (obs - np.asarray(OBS_MEAN)) / np.asarray(OBS_STD)


def save_torchscript(module: torch.nn.Module, path: pathlib.Path, obs_dim: int = 5) -> None:
    with quiet_torchscript():
        torch.jit.trace(module.eval(), torch.zeros(3, obs_dim)).save(str(path))


class CorlIqlActor(torch.nn.Module):
    """Parameter layout of CORL's IQL GaussianPolicy: ``net.net`` Sequential plus ``log_std``."""

    def __init__(self, obs_dim: int, action_dim: int) -> None:
        super().__init__()
        self.net = torch.nn.Module()
        self.net.net = torch.nn.Sequential(
            torch.nn.Linear(obs_dim, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
            torch.nn.ReLU(), torch.nn.Linear(16, action_dim), torch.nn.Tanh())
        self.log_std = torch.nn.Parameter(torch.tensor([-0.5, 3.0]))


class Constant(torch.nn.Module):
    """A model whose outputs do not depend on the observation (one value per action)."""

    def __init__(self, value: float, outputs: int = 2) -> None:
        super().__init__()
        self.value = value
        self.outputs = outputs

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = torch.full((obs.shape[0], 2), self.value) + 0.0 * obs[:, :2]
        return (out,) * self.outputs


@pytest.fixture
def head_mlp() -> GaussianMLP:
    torch.manual_seed(0)
    return GaussianMLP(len(FIELDS), 2, [16, 16], std=StdKind.HEAD).eval()


@pytest.fixture
def torchscript_actor(tmp_path: pathlib.Path, head_mlp: GaussianMLP) -> pathlib.Path:
    save_torchscript(head_mlp, tmp_path / 'actor.pt')
    return write_manifest(tmp_path / 'actor.pt', model_format=ModelFormat.TORCHSCRIPT,
                          output=TANH, observation=BY_LOADER, action=ACTION,
                          provenance=provenance())


@pytest.fixture(scope='module')
def onnx_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, GaussianMLP]:
    torch.manual_seed(1)
    module = GaussianMLP(len(FIELDS), 2, [16], std=StdKind.PARAMETER, mean_activation='tanh')
    path = tmp_path_factory.mktemp('onnx') / 'actor.onnx'
    torch.onnx.export(module.eval(), (torch.zeros(2, len(FIELDS)),), str(path), dynamo=True,
                      input_names=['obs'], output_names=['mu', 'logstd'], verbose=False,
                      dynamic_shapes=({0: torch.export.Dim('batch', min=1)},),
                      external_data=False)
    return path, module


def test_torchscript_round_trip_single_and_batch(torchscript_actor: pathlib.Path,
                                                 head_mlp: GaussianMLP) -> None:
    actor = load_actor(torchscript_actor, device='cpu')
    obs = raw_observations(6)
    mean, log_std = actor(obs)
    expected_mean, expected_log_std = torch_outputs(head_mlp, normalised(obs))
    np.testing.assert_allclose(mean, expected_mean, atol=1e-6)
    np.testing.assert_allclose(log_std, expected_log_std, atol=1e-6)
    assert mean.dtype == np.float64 and mean.shape == (6, 2)
    single_mean, single_log_std = actor(obs[2])
    assert single_mean.shape == single_log_std.shape == (2,)
    np.testing.assert_allclose(single_mean, mean[2], atol=1e-6)
    assert actor.std_depends_on_state
    assert actor.device == 'cpu'
    assert isinstance(actor, Actor)
    np.testing.assert_array_equal(actor.action_high, ACTION.high)
    assert actor.observation_layout.fields == FIELDS


def test_onnx_round_trip(onnx_model: tuple[pathlib.Path, GaussianMLP]) -> None:
    path, module = onnx_model
    manifest = write_manifest(path, model_format='onnx', output=OutputSpec(OutputKind.GAUSSIAN),
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    actor = load_actor(manifest, device='cpu')
    obs = raw_observations(5)
    mean, log_std = actor(obs)
    expected_mean, expected_log_std = torch_outputs(module, obs)
    np.testing.assert_allclose(mean, expected_mean, atol=1e-5)
    np.testing.assert_allclose(log_std, expected_log_std, atol=1e-6)
    assert not actor.std_depends_on_state


def test_an_onnx_model_with_a_fixed_batch_of_one_runs_row_by_row(
        tmp_path: pathlib.Path, onnx_model: tuple[pathlib.Path, GaussianMLP]) -> None:
    model = onnx.load(str(onnx_model[0]))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    onnx.save_model(model, str(tmp_path / 'single.onnx'))
    manifest = write_manifest(tmp_path / 'single.onnx', model_format='onnx',
                              output=OutputSpec(OutputKind.GAUSSIAN),
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    obs = raw_observations(3)
    mean, _ = load_actor(manifest, device='cpu')(obs)
    np.testing.assert_allclose(mean, torch_outputs(onnx_model[1], obs)[0], atol=1e-5)


def test_onnx_weights_outside_the_hashed_file_are_refused(
        tmp_path: pathlib.Path, onnx_model: tuple[pathlib.Path, GaussianMLP]) -> None:
    model = onnx.load(str(onnx_model[0]))
    onnx.save_model(model, str(tmp_path / 'split.onnx'), save_as_external_data=True,
                    location='split.onnx.data', size_threshold=0)
    manifest = write_manifest(tmp_path / 'split.onnx', model_format='onnx',
                              output=OutputSpec(OutputKind.GAUSSIAN),
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    with pytest.raises(ActorLoadError, match='external data files, which its sha256 does not'):
        load_actor(manifest)


def test_state_dict_of_a_corl_iql_actor_loads_with_key_mapping(tmp_path: pathlib.Path) -> None:
    torch.manual_seed(2)
    corl = CorlIqlActor(len(FIELDS), 2)
    torch.save({'actor': corl.state_dict(), 'total_it': 10}, tmp_path / 'checkpoint.pt')
    architecture = ArchitectureSpec(
        (16, 16), StdKind.PARAMETER, mean_activation='tanh', log_std_min=-20.0, log_std_max=2.0,
        state_dict_key='actor', layers_key='net.net')
    manifest = write_manifest(tmp_path / 'checkpoint.pt', model_format='state_dict',
                              output=OutputSpec(OutputKind.GAUSSIAN), observation=BY_LOADER,
                              action=ACTION, provenance=provenance(), architecture=architecture)
    actor = load_actor(manifest, device='cpu')
    obs = raw_observations(4)
    mean, log_std = actor(obs)
    (expected_mean,) = torch_outputs(corl.net.net, normalised(obs))
    np.testing.assert_allclose(mean, expected_mean, atol=1e-6)
    np.testing.assert_allclose(log_std, np.tile([-0.5, 2.0], (4, 1)))  # 3.0 clamped to 2.0
    assert not actor.std_depends_on_state


def test_state_dict_with_a_std_head(tmp_path: pathlib.Path, head_mlp: GaussianMLP) -> None:
    torch.save(head_mlp.state_dict(), tmp_path / 'weights.pt')
    manifest = write_manifest(
        tmp_path / 'weights.pt', model_format='state_dict', output=TANH, observation=BY_LOADER,
        action=ACTION, provenance=provenance(),
        architecture=ArchitectureSpec((16, 16), StdKind.HEAD))
    actor = load_actor(manifest, device='cpu')
    obs = raw_observations(3)
    for got, expected in zip(actor(obs), torch_outputs(head_mlp, normalised(obs))):
        np.testing.assert_allclose(got, expected, atol=1e-6)
    assert actor.std_depends_on_state


def test_deterministic_actor_gets_the_assumed_std(tmp_path: pathlib.Path) -> None:
    torch.manual_seed(3)
    module = GaussianMLP(len(FIELDS), 2, [16], std=StdKind.NONE, mean_activation='tanh')
    save_torchscript(module, tmp_path / 'td3bc.pt')
    output = OutputSpec(OutputKind.DETERMINISTIC, assumed_std=(0.1, 0.3))
    manifest = write_manifest(tmp_path / 'td3bc.pt', model_format='torchscript', output=output,
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    actor = load_actor(manifest, device='cpu')
    obs = raw_observations(4)
    mean, log_std = actor(obs)
    np.testing.assert_allclose(mean, torch_outputs(module, obs)[0], atol=1e-6)
    np.testing.assert_allclose(log_std, np.log(np.tile([0.1, 0.3], (4, 1))))
    assert not actor.std_depends_on_state
    assert actor.output_shapes == ((8, 2),)


def test_deterministic_mean_in_command_units_is_mapped_back(tmp_path: pathlib.Path) -> None:
    save_torchscript(Constant(1.0, outputs=1), tmp_path / 'policy.pt')
    output = OutputSpec(OutputKind.DETERMINISTIC, (0.2, 0.2), mean_in_command_units=True)
    manifest = write_manifest(tmp_path / 'policy.pt', model_format='torchscript', output=output,
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    mean, _ = load_actor(manifest, device='cpu')(raw_observations(1)[0])
    np.testing.assert_allclose(mean, [2.0, 1.0 / 1.5])  # command 1.0 in [-0.5, 0.5], [-1.5, 1.5]


@pytest.mark.parametrize('model_format', ['torchscript', 'state_dict'])
def test_one_flipped_byte_is_refused_naming_both_hashes(
        tmp_path: pathlib.Path, head_mlp: GaussianMLP, model_format: str) -> None:
    path = tmp_path / 'actor.pt'
    if model_format == 'torchscript':
        save_torchscript(head_mlp, path)
    else:
        torch.save(head_mlp.state_dict(), path)
    manifest = write_manifest(path, model_format=model_format, output=TANH,
                              observation=BY_LOADER, action=ACTION, provenance=provenance(),
                              architecture=ArchitectureSpec((16, 16), StdKind.HEAD)
                              if model_format == 'state_dict' else None)
    certified = manifest.read_text().split('sha256: ')[1].split()[0]
    flip_byte(path)
    with pytest.raises(ActorLoadError, match=f'SHA-256 [0-9a-f]{{64}} does not match the '
                                             f'manifest sha256 {certified}'):
        load_actor(manifest)


def test_a_missing_model_file_is_refused(torchscript_actor: pathlib.Path) -> None:
    (torchscript_actor.parent / 'actor.pt').unlink()
    with pytest.raises(ActorLoadError, match=r"file 'actor\.pt' does not exist"):
        load_actor(torchscript_actor)


@pytest.mark.parametrize('model_format', ['torchscript', 'state_dict', 'onnx'])
def test_wrong_observation_size_is_refused_at_load(
        tmp_path: pathlib.Path, onnx_model: tuple[pathlib.Path, GaussianMLP],
        model_format: str) -> None:
    path, module = tmp_path / 'five_inputs', onnx_model[1]
    architecture = None
    if model_format == 'torchscript':
        save_torchscript(module, path)
    elif model_format == 'state_dict':
        torch.save(module.state_dict(), path)
        architecture = ArchitectureSpec((16,), StdKind.PARAMETER, mean_activation='tanh')
    else:
        path.write_bytes(onnx_model[0].read_bytes())
    manifest = write_manifest(path, model_format=model_format,
                              output=OutputSpec(OutputKind.GAUSSIAN),
                              observation=ObservationSpec(FIELDS[:4]), action=ACTION,
                              provenance=provenance(), architecture=architecture)
    with pytest.raises(ActorLoadError,
                       match=r'observations of size [45]\b.*observation\.fields lists 4'):
        load_actor(manifest, device='cpu')


def test_outputs_that_do_not_fit_the_manifest_are_refused(tmp_path: pathlib.Path) -> None:
    save_torchscript(GaussianMLP(5, 3, [8]), tmp_path / 'three.pt')
    manifest = write_manifest(tmp_path / 'three.pt', model_format='torchscript', output=TANH,
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    with pytest.raises(ActorLoadError,
                       match=r'mean has shape \(8, 3\) .*\(action\.names lists 2\)'):
        load_actor(manifest)
    save_torchscript(Constant(0.0, outputs=2), tmp_path / 'two.pt')
    manifest = write_manifest(tmp_path / 'two.pt', model_format='torchscript',
                              output=OutputSpec(OutputKind.DETERMINISTIC, (0.1, 0.1)),
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    with pytest.raises(ActorLoadError, match=r'output\.kind: deterministic expects 1 model '
                                             r'output\(s\) \(mean\), .* returns 2'):
        load_actor(manifest)


def test_a_model_emitting_nan_is_refused_at_load(tmp_path: pathlib.Path) -> None:
    save_torchscript(Constant(float('nan')), tmp_path / 'nan.pt')
    manifest = write_manifest(tmp_path / 'nan.pt', model_format='torchscript', output=TANH,
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    with pytest.raises(ActorLoadError, match='emits non-finite values'):
        load_actor(manifest)


def test_checkpoint_and_torchscript_confusion_gets_a_hint(tmp_path: pathlib.Path,
                                                          head_mlp: GaussianMLP) -> None:
    torch.save(head_mlp.state_dict(), tmp_path / 'weights.pt')
    manifest = write_manifest(tmp_path / 'weights.pt', model_format='torchscript', output=TANH,
                              observation=BY_LOADER, action=ACTION, provenance=provenance())
    with pytest.raises(ActorLoadError, match='needs format state_dict with an architecture'):
        load_actor(manifest)
    save_torchscript(head_mlp, tmp_path / 'scripted.pt')
    manifest = write_manifest(tmp_path / 'scripted.pt', model_format='state_dict', output=TANH,
                              observation=BY_LOADER, action=ACTION, provenance=provenance(),
                              architecture=ArchitectureSpec((16, 16), StdKind.HEAD))
    with pytest.raises(ActorLoadError, match='needs format torchscript'):
        load_actor(manifest)


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a machine without CUDA')
def test_cuda_requested_without_cuda_falls_back_to_cpu_with_a_warning(
        torchscript_actor: pathlib.Path,
        onnx_model: tuple[pathlib.Path, GaussianMLP]) -> None:
    with pytest.warns(DeviceFallbackWarning, match='cuda requested but no CUDA device'):
        assert load_actor(torchscript_actor, device='cuda').device == 'cpu'
    manifest = write_manifest(onnx_model[0], model_format='onnx',
                              output=OutputSpec(OutputKind.GAUSSIAN),
                              observation=ObservationSpec(FIELDS), action=ACTION,
                              provenance=provenance())
    with pytest.warns(DeviceFallbackWarning):
        assert load_actor(manifest, device='cuda').device == 'cpu'
    assert load_actor(torchscript_actor, device='auto').device == 'cpu'


def test_warm_up_latency_is_reported(torchscript_actor: pathlib.Path) -> None:
    stats = load_actor(torchscript_actor, warmup_passes=5).warmup_latency_s
    assert stats is not None and stats.count == 5
    assert 0.0 < stats.median_s <= stats.max_s
    assert load_actor(torchscript_actor, warmup_passes=0).warmup_latency_s is None


@pytest.mark.parametrize('kwargs, message', [
    ({'device': 'gpu'}, "device: 'gpu' is not one of"),
    ({'num_threads': 0}, 'num_threads: must be at least 1'),
    ({'warmup_passes': -1}, 'warmup_passes: must be >= 0'),
])
def test_bad_load_arguments_are_named(torchscript_actor: pathlib.Path, kwargs: dict[str, object],
                                      message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_actor(torchscript_actor, **kwargs)  # type: ignore[arg-type]


def test_a_wrongly_shaped_observation_is_refused_at_call(
        torchscript_actor: pathlib.Path) -> None:
    actor = load_actor(torchscript_actor)
    with pytest.raises(ValueError, match=r'obs: expected shape \(5,\) or \(N, 5\), got \(4,\)'):
        actor(np.zeros(4))
    with pytest.raises(ValueError, match=r'got \(2, 3, 5\)'):
        actor(np.zeros((2, 3, 5)))
