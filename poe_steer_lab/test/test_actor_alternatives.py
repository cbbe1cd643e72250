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

"""One manifest certifying an actor as TorchScript and ONNX: which file runs, and hash checks."""

from __future__ import annotations

import pathlib

from actor_support import ACTION, FIELDS, flip_byte, OBS_MEAN, OBS_STD, provenance
import numpy as np
from poe_steer_lab.offline.export import export_actor, ExportError
from poe_steer_ros.core.actor import ActorLoadError, choose_model_file, load_actor, sha256_of
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ActorManifest, ModelFormat, OutputSpec, StdKind
from poe_steer_ros.core.torch_actor import GaussianMLP
import pytest
import torch


def export_bundle(folder: pathlib.Path) -> pathlib.Path:
    torch.manual_seed(0)
    manifests = export_actor(
        GaussianMLP(len(FIELDS), 2, [16, 16], std=StdKind.HEAD), folder,
        observation_fields=FIELDS, action_names=ACTION.names, provenance=provenance(),
        observation_stats=(OBS_MEAN, OBS_STD), action_bounds=(ACTION.low, ACTION.high),
        output=OutputSpec(OutputKind.TANH_GAUSSIAN), formats=['torchscript', 'onnx'],
        single_manifest=True)
    assert manifests[ModelFormat.TORCHSCRIPT] == manifests[ModelFormat.ONNX]
    return manifests[ModelFormat.TORCHSCRIPT]


@pytest.fixture(scope='module')
def bundle(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return export_bundle(tmp_path_factory.mktemp('bundle'))


@pytest.fixture
def own_bundle(tmp_path: pathlib.Path) -> pathlib.Path:
    """Return a bundle of this test's own, which it may damage."""
    return export_bundle(tmp_path)


def test_one_manifest_certifies_both_files(bundle: pathlib.Path) -> None:
    manifest = ActorManifest.load(bundle)
    assert bundle.name == 'actor.pt.yaml'
    assert [(f.format, f.file) for f in manifest.model_files] == [
        (ModelFormat.TORCHSCRIPT, 'actor.pt'), (ModelFormat.ONNX, 'actor.onnx')]
    for model_file in manifest.model_files:
        assert model_file.sha256 == sha256_of(bundle.parent / model_file.file)
    assert not (bundle.parent / 'actor.onnx.yaml').exists()


def test_the_cpu_runs_onnx_and_a_named_format_runs_that_file(bundle: pathlib.Path) -> None:
    onnx_actor = load_actor(bundle, device='cpu', warmup_passes=0)
    assert onnx_actor.manifest.format is ModelFormat.ONNX
    assert onnx_actor.sha256 == sha256_of(bundle.parent / 'actor.onnx')
    assert onnx_actor.manifest.alternatives[0].file == 'actor.pt'
    torchscript_actor = load_actor(bundle, device='cpu', warmup_passes=0,
                                   model_format='torchscript')
    assert torchscript_actor.manifest.model_path == bundle.parent / 'actor.pt'
    obs = onnx_actor.probe_observations(32)
    for from_onnx, from_torchscript in zip(onnx_actor(obs), torchscript_actor(obs)):
        np.testing.assert_allclose(from_onnx, from_torchscript, atol=1e-5)


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a machine without CUDA')
def test_without_a_gpu_auto_and_cuda_requests_run_onnx_on_the_cpu(bundle: pathlib.Path) -> None:
    manifest = ActorManifest.load(bundle)
    for device in ('auto', 'cuda', 'cpu'):
        assert choose_model_file(manifest, device).format is ModelFormat.ONNX
    assert load_actor(bundle, device='auto', warmup_passes=0).device == 'cpu'


def test_with_a_gpu_for_torch_the_torchscript_file_is_chosen(
        bundle: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the choice is checked: nothing is loaded on the pretended GPU.
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    manifest = ActorManifest.load(bundle)
    assert choose_model_file(manifest, 'auto').format is ModelFormat.TORCHSCRIPT
    assert choose_model_file(manifest, 'cuda').format is ModelFormat.TORCHSCRIPT
    assert choose_model_file(manifest, 'cpu').format is ModelFormat.ONNX


@pytest.mark.parametrize('changed', ['actor.pt', 'actor.onnx'])
def test_a_changed_file_refuses_the_whole_bundle(own_bundle: pathlib.Path, changed: str) -> None:
    flip_byte(own_bundle.parent / changed)
    for model_format in ('torchscript', 'onnx'):
        with pytest.raises(ActorLoadError, match=f'{changed}: SHA-256 [0-9a-f]{{64}} does not '
                                                 'match the manifest sha256'):
            load_actor(own_bundle, device='cpu', model_format=model_format)


def test_a_missing_alternative_is_refused(own_bundle: pathlib.Path) -> None:
    (own_bundle.parent / 'actor.onnx').unlink()
    with pytest.raises(ActorLoadError, match=r"file 'actor\.onnx' does not exist"):
        load_actor(own_bundle, model_format='torchscript')


def test_formats_outside_the_manifest_or_unknown_are_refused(bundle: pathlib.Path) -> None:
    with pytest.raises(ActorLoadError, match='format d3rlpy requested, but the manifest '
                                             r"certifies \['torchscript', 'onnx'\] only"):
        load_actor(bundle, model_format='d3rlpy')
    with pytest.raises(ValueError, match="format: 'tflite' is not one of"):
        load_actor(bundle, model_format='tflite')


def test_a_single_manifest_is_refused_for_a_d3rlpy_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ExportError, match=r"formats: one manifest certifies \['torchscript', "
                                          r"'onnx'\] files only"):
        export_actor(GaussianMLP(len(FIELDS), 2, [8]), tmp_path, observation_fields=FIELDS,
                     action_names=ACTION.names, provenance=provenance(),
                     action_bounds=(ACTION.low, ACTION.high),
                     output=OutputSpec(OutputKind.TANH_GAUSSIAN),
                     formats=['torchscript', 'd3rlpy'], single_manifest=True)
