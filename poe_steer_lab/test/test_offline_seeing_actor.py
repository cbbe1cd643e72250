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

"""The shipped seeing actor: certified with its support model, in steer.yaml, competent."""

from __future__ import annotations

import pathlib

import numpy as np
from poe_steer_lab.offline.dataset import (ACTION_NAMES, SCAN_BINS, SCAN_RANGE_M,
                                           SEEING_OBSERVATION_FIELDS)
from poe_steer_lab.offline.rollout import ActorPolicy, run_episodes
from poe_steer_ros.core.actor import FrozenActor, load_actor, sha256_of
from poe_steer_ros.core.manifest import ActorManifest, ModelFormat
from poe_steer_ros.core.scan import ScanBinning
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW, DiffDriveEnv
from poe_steer_sim.world import default_world
import pytest
import yaml

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / 'poe_steer_ros'
MANIFEST = PACKAGE / 'models' / 'seeing_actor.pt.yaml'


@pytest.fixture(scope='module')
def actor() -> FrozenActor:
    return load_actor(MANIFEST, device='cpu', num_threads=None, warmup_passes=0)


def test_steer_yaml_points_at_it() -> None:
    raw = yaml.safe_load((PACKAGE / 'config' / 'steer.yaml').read_text(encoding='utf-8'))
    assert raw['/**']['ros__parameters']['actor.manifest'] == 'models/seeing_actor.pt.yaml'


def test_every_certified_file_is_small_and_matches_its_hash() -> None:
    manifest = ActorManifest.load(MANIFEST)
    assert [(f.format, f.file) for f in manifest.model_files] == [
        (ModelFormat.TORCHSCRIPT, 'seeing_actor.pt'), (ModelFormat.ONNX, 'seeing_actor.onnx')]
    for model_file in (*manifest.model_files, manifest.support):
        path = manifest.directory / model_file.file
        assert sha256_of(path) == model_file.sha256
        assert path.stat().st_size < 1024 * 1024


def test_it_sees_and_carries_its_support_model(actor: FrozenActor) -> None:
    manifest = actor.manifest
    assert manifest.observation.fields == SEEING_OBSERVATION_FIELDS
    assert manifest.observation.scan_range_m == SCAN_RANGE_M
    assert actor.observation_layout.scan_bins == SCAN_BINS
    assert manifest.action.names == ACTION_NAMES
    assert np.array_equal(actor.action_low, COMMAND_LOW)
    assert np.array_equal(actor.action_high, COMMAND_HIGH)
    assert actor.std_depends_on_state and actor.support is not None
    assert not any(field.startswith('base.x') or field.startswith('base.y')
                   for field in manifest.observation.fields)


def test_unsteered_it_reaches_goals_in_the_default_world_and_stays_on_support(
        actor: FrozenActor) -> None:
    env = DiffDriveEnv(default_world(), scan=ScanBinning(SCAN_BINS, SCAN_RANGE_M))
    records = run_episodes(ActorPolicy(actor, actor.observation_layout.build), env,
                           [(3.0, 0.5), (4.0, 1.5), (2.0, 2.0)], [0, 1, 2],
                           state_keys=tuple(actor.observation_layout.required_state_keys))
    assert sum(record.success for record in records) >= 2
    support = actor.support
    for record in records:
        for row in record.states[:-1:10]:
            state = dict(zip(record.state_keys, row))
            obs = actor.observation_layout.build(state, record.goal)
            assert support.score(obs, gain=1.0).ratio < 1.5
