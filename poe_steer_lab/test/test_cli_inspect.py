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

"""``poe-steer inspect``: manifest, hash check, shapes, std dependence, device, latency."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from actor_support import ACTION, FIELDS, flip_byte, provenance
import numpy as np
from poe_steer_lab.offline.export import export_actor
from poe_steer_ros.cli import EXIT_OK, EXIT_REFUSED, main
from poe_steer_ros.core.actor import ActorLoadError, load_actor
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import (ActorManifest, ManifestError, ModelFormat, OutputSpec,
                                         StdKind)
from poe_steer_ros.core.support import SupportModel
from poe_steer_ros.core.torch_actor import GaussianMLP
import pytest
import torch
import yaml


@pytest.fixture
def manifest(tmp_path: pathlib.Path) -> pathlib.Path:
    torch.manual_seed(0)
    manifests = export_actor(
        GaussianMLP(len(FIELDS), 2, [16], std=StdKind.PARAMETER), tmp_path,
        observation_fields=FIELDS, action_names=ACTION.names, provenance=provenance(),
        action_bounds=(ACTION.low, ACTION.high), output=OutputSpec(OutputKind.GAUSSIAN),
        formats=['torchscript'])
    return manifests[ModelFormat.TORCHSCRIPT]


def test_inspect_reports_everything_about_a_good_actor(
        manifest: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(['inspect', str(manifest), '--device', 'cpu', '--iterations', '20']) == EXIT_OK
    out = capsys.readouterr().out
    expected = [
        f'manifest  {manifest}', 'format: torchscript', 'dataset: tiny generated dataset',
        'sha256    actor.pt: OK (', 'runs      actor.pt (torchscript; requested auto)',
        f'bundle    {ActorManifest.load(manifest).bundle_sha256} (pin it with '
        'actor.bundle_sha256)',
        'input     observation float32 (N, 5), built from:',
        '[3] goal.dx_body', '<- base.x, base.y, base.yaw, goal[:2]',
        'output    mean, log_std float64 (N, 2); model returns (8, 2), (8, 2) for a batch of 8',
        'kind      gaussian: command = offset + scale * clip(u, -1, 1)',
        'std       does not depend on the state', 'device    cpu (requested cpu), threads 1',
        'warm-up   10 passes: first', 'steady    20 passes:', '(batch 1024)']
    for text in expected:
        assert text in out


def test_inspect_checks_every_certified_file_and_names_the_one_that_runs(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = export_actor(
        GaussianMLP(len(FIELDS), 2, [16], std=StdKind.PARAMETER), tmp_path,
        observation_fields=FIELDS, action_names=ACTION.names, provenance=provenance(),
        action_bounds=(ACTION.low, ACTION.high), output=OutputSpec(OutputKind.GAUSSIAN),
        formats=['torchscript', 'onnx'], single_manifest=True)
    manifest = str(manifests[ModelFormat.TORCHSCRIPT])
    assert main(['inspect', manifest, '--device', 'cpu', '--iterations', '0']) == EXIT_OK
    out = capsys.readouterr().out
    for text in ('sha256    actor.pt: OK (', 'sha256    actor.onnx: OK (',
                 'runs      actor.onnx (onnx; requested auto)'):
        assert text in out
    assert main(['inspect', manifest, '--format', 'torchscript', '--iterations', '0']) == EXIT_OK
    assert 'runs      actor.pt (torchscript; requested torchscript)' in capsys.readouterr().out
    flip_byte(tmp_path / 'actor.onnx')
    assert main(['inspect', manifest, '--format', 'torchscript']) == EXIT_REFUSED
    assert 'sha256    actor.onnx: MISMATCH' in capsys.readouterr().out


def test_inspect_finds_the_manifest_from_the_model_file(
        manifest: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(['inspect', str(manifest.parent / 'actor.pt'), '--iterations', '0']) == EXIT_OK
    assert f'manifest  {manifest}' in capsys.readouterr().out


def test_inspect_refuses_a_changed_model_naming_both_hashes(
        manifest: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    certified = manifest.read_text().split('sha256: ')[1].split()[0]
    flip_byte(manifest.parent / 'actor.pt')
    assert main(['inspect', str(manifest)]) == EXIT_REFUSED
    captured = capsys.readouterr()
    assert 'sha256    actor.pt: MISMATCH: file ' in captured.out
    assert f', manifest {certified}' in captured.out
    assert 'refused: the model changed since it was certified' in captured.err


def test_inspect_refuses_an_invalid_manifest_naming_the_key(
        manifest: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest.write_text(manifest.read_text().replace('kind: gaussian', 'kind: beta'))
    assert main(['inspect', str(manifest)]) == EXIT_REFUSED
    assert "output.kind: 'beta' is not one of" in capsys.readouterr().err


def test_usage_errors_exit_with_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ['fly'], ['inspect']):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
    capsys.readouterr()


def test_the_command_runs_as_a_module(manifest: pathlib.Path) -> None:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(
        [sys.executable, '-m', 'poe_steer_ros.cli', 'inspect', str(manifest), '--iterations',
         '5'], capture_output=True, text=True, env=environment, timeout=120)
    assert done.returncode == EXIT_OK, done.stderr
    assert 'sha256    actor.pt: OK' in done.stdout


SEEING_FIELDS = ('base.v', 'goal.dx_body', 'goal.dy_body', 'scan.0', 'scan.1', 'scan.2')


@pytest.fixture
def seeing_manifest(tmp_path: pathlib.Path) -> pathlib.Path:
    torch.manual_seed(0)
    data = np.random.default_rng(0).uniform(0.0, 1.0, size=(200, len(SEEING_FIELDS)))
    manifests = export_actor(
        GaussianMLP(len(SEEING_FIELDS), 2, [16], std=StdKind.HEAD), tmp_path,
        observation_fields=SEEING_FIELDS, action_names=ACTION.names, provenance=provenance(),
        action_bounds=(ACTION.low, ACTION.high), output=OutputSpec(OutputKind.TANH_GAUSSIAN),
        formats=['torchscript', 'onnx'], single_manifest=True, scan_range_m=2.0,
        support=SupportModel.fit(data, points=64, k=4), name='seeing')
    return manifests[ModelFormat.TORCHSCRIPT]


def test_a_seeing_bundle_certifies_its_support_model_and_inspect_reports_it(
        seeing_manifest: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = ActorManifest.load(seeing_manifest)
    assert manifest.observation.scan_range_m == 2.0
    assert manifest.support.file == 'seeing.support.npz'
    actor = load_actor(seeing_manifest, device='cpu', warmup_passes=0)
    assert actor.support is not None and actor.support.obs_dim == len(SEEING_FIELDS)
    assert main(['inspect', str(seeing_manifest), '--device', 'cpu', '--iterations', '0']) \
        == EXIT_OK
    out = capsys.readouterr().out
    for expected in ('sha256    seeing.support.npz: OK (', '[3] scan.0', '<- scan.0',
                     'support   seeing.support.npz: k-NN over 64 training observations, k 4'):
        assert expected in out


def test_a_changed_support_model_is_refused(seeing_manifest: pathlib.Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    flip_byte(seeing_manifest.parent / 'seeing.support.npz')
    with pytest.raises(ActorLoadError, match='seeing.support.npz: SHA-256'):
        load_actor(seeing_manifest, device='cpu', warmup_passes=0)
    assert main(['inspect', str(seeing_manifest), '--iterations', '0']) == EXIT_REFUSED
    assert 'seeing.support.npz: MISMATCH' in capsys.readouterr().out


def test_without_its_data_an_actor_still_loads_and_runs(seeing_manifest: pathlib.Path) -> None:
    data = yaml.safe_load(seeing_manifest.read_text(encoding='utf-8'))
    del data['support']
    seeing_manifest.write_text(yaml.safe_dump(data), encoding='utf-8')
    (seeing_manifest.parent / 'seeing.support.npz').unlink()
    actor = load_actor(seeing_manifest, device='cpu', warmup_passes=0)
    assert actor.support is None
    mean, log_std = actor(actor.probe_observations(1)[0])
    assert mean.shape == log_std.shape == (2,)


def test_scan_fields_need_their_range_cap(seeing_manifest: pathlib.Path) -> None:
    data = yaml.safe_load(seeing_manifest.read_text(encoding='utf-8'))
    del data['observation']['scan_range_m']
    with pytest.raises(ManifestError, match='observation.scan_range_m: required with scan'):
        ActorManifest.from_dict(data)
