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

"""The certified bundle: one hash over the manifest and its files, whatever the YAML looks like."""

from __future__ import annotations

import copy
import pathlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from poe_steer_ros.core.manifest import ActorManifest, ManifestError
import pytest
import yaml

from test_manifest import valid, with_onnx_alternative  # noqa: I100 (the test folder)

EDITS = {
    'swap action names': lambda data: data['action'].update(
        names=list(reversed(data['action']['names']))),
    'wider bound': lambda data: data['action']['high'].__setitem__(0, 0.6),
    'output kind': lambda data: data['output'].update(kind='gaussian'),
    'observation order': lambda data: data['observation'].update(
        fields=list(reversed(data['observation']['fields']))),
    'normalisation applied by the loader': lambda data: data['observation'][
        'normalization'].update(applied_in_model=False),
    'normalisation stats': lambda data: data['observation']['normalization'][
        'mean'].__setitem__(0, 0.2),
    'model file hash': lambda data: data.update(sha256='cd' * 32),
    'provenance': lambda data: data['provenance'].update(dataset='another'),
}


def bundle(data: dict[str, Any]) -> str:
    return ActorManifest.from_dict(data).bundle_sha256


@pytest.mark.parametrize('name', list(EDITS))
def test_every_certified_field_changes_the_bundle_hash(name: str) -> None:
    edited = copy.deepcopy(valid())
    EDITS[name](edited)
    assert bundle(edited) != bundle(valid())


@settings(max_examples=60)
@given(st.lists(st.sampled_from(list(EDITS)), min_size=1, max_size=4, unique=True))
def test_random_edits_never_keep_the_hash(names: list[str]) -> None:
    edited = copy.deepcopy(valid())
    for name in names:
        EDITS[name](edited)
    if edited != valid():
        assert bundle(edited) != bundle(valid())


def test_the_hash_ignores_yaml_layout_and_which_certified_file_runs(
        tmp_path: pathlib.Path) -> None:
    data = with_onnx_alternative()
    manifest = ActorManifest.from_dict(data)
    flow = tmp_path / 'flow.yaml'
    flow.write_text('# a comment\n' + yaml.safe_dump(data, default_flow_style=True))
    assert ActorManifest.load(flow).bundle_sha256 == manifest.bundle_sha256
    onnx_first = manifest.with_primary(manifest.model_files[1])
    assert onnx_first.bundle_sha256 == manifest.bundle_sha256
    assert len(manifest.bundle_sha256) == 64


@pytest.mark.parametrize('low, high', [([-1e308, -1.0], [1e308, 1.0]), ([-2e6, -1.0], [0.5, 1.0])])
def test_manifest_bounds_of_insane_magnitude_are_refused(low, high) -> None:
    data = valid()
    data['action'].update(low=low, high=high)
    with pytest.raises(ManifestError, match='bounds beyond'):
        ActorManifest.from_dict(data)
