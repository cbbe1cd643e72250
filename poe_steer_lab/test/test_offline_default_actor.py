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

"""The shipped blind actor: certified, small, limits as in steer.yaml, competent in its region."""

from __future__ import annotations

import pathlib

import numpy as np
from poe_steer_lab.offline.dataset import ACTION_NAMES, OBSERVATION_FIELDS
from poe_steer_lab.offline.rollout import run_episodes, SteererPolicy
from poe_steer_ros.core.actor import FrozenActor, load_actor, sha256_of
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ActorManifest, ModelFormat
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.steerer import SteeringConfig
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW, DiffDriveEnv
from poe_steer_sim.world import default_world
import pytest
import yaml

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / 'poe_steer_ros'
MANIFEST = PACKAGE / 'models' / 'default_actor.pt.yaml'
MAX_MODEL_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope='module')
def actor() -> FrozenActor:
    return load_actor(MANIFEST, device='cpu', num_threads=None, warmup_passes=0)


def steer_parameters() -> dict[str, object]:
    raw = yaml.safe_load((PACKAGE / 'config' / 'steer.yaml').read_text(encoding='utf-8'))
    parameters: dict[str, object] = raw['/**']['ros__parameters']
    return parameters


def test_the_model_files_are_small_and_their_hashes_match_the_manifest() -> None:
    manifest = ActorManifest.load(MANIFEST)
    assert [(f.format, f.file) for f in manifest.model_files] == [
        (ModelFormat.TORCHSCRIPT, 'default_actor.pt'), (ModelFormat.ONNX, 'default_actor.onnx')]
    for model_file in manifest.model_files:
        path = manifest.directory / model_file.file
        assert sha256_of(path) == model_file.sha256
        assert path.stat().st_size < MAX_MODEL_BYTES


def test_its_torchscript_and_onnx_files_agree(actor: FrozenActor) -> None:
    torchscript = load_actor(MANIFEST, device='cpu', num_threads=None, warmup_passes=0,
                             model_format='torchscript')
    obs = actor.probe_observations(256)
    for from_onnx, from_torchscript in zip(actor(obs), torchscript(obs)):
        np.testing.assert_allclose(from_onnx, from_torchscript, atol=1e-5)


def test_it_loads_with_the_layout_bounds_and_provenance_the_node_expects(
        actor: FrozenActor) -> None:
    manifest = actor.manifest
    assert manifest.observation.fields == OBSERVATION_FIELDS
    assert manifest.action.names == ACTION_NAMES
    assert np.array_equal(actor.action_low, COMMAND_LOW)
    assert np.array_equal(actor.action_high, COMMAND_HIGH)
    assert actor.output_kind is OutputKind.TANH_GAUSSIAN and actor.std_depends_on_state
    assert 'training region' in manifest.provenance.objective
    assert manifest.provenance.extra['dataset_details']['transitions'] > 0


def test_steer_yaml_limits_match_it_and_it_stays_the_blind_choice() -> None:
    parameters = steer_parameters()
    assert parameters['actor.manifest'] == 'models/seeing_actor.pt.yaml'
    assert 'default_actor.pt.yaml' in (PACKAGE / 'config' / 'steer.yaml').read_text()
    assert parameters['limits.command_low'] == list(COMMAND_LOW)
    assert parameters['limits.command_high'] == list(COMMAND_HIGH)
    assert parameters['control.rate_hz'] == pytest.approx(20.0)


def test_unsteered_it_reaches_goals_of_its_training_region(actor: FrozenActor) -> None:
    parameters = steer_parameters()
    envelope = SafetyEnvelope(COMMAND_LOW, COMMAND_HIGH, parameters['limits.max_rate_per_s'])
    policy = SteererPolicy(actor, actor.observation_layout.build, envelope,
                           SteeringConfig(rule='frozen'))
    records = run_episodes(policy, DiffDriveEnv(default_world()), [None] * 3, [101, 102, 103])
    assert sum(record.success for record in records) >= 2
    assert all(record.collisions == 0 for record in records if record.success)
