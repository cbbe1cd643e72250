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

"""Actor manifest schema: validation names the offending key; YAML round trip."""

from __future__ import annotations

import copy
import pathlib
from typing import Any, Callable

import numpy as np
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import (ActorManifest, find_manifest, ManifestError, ModelFile,
                                         ModelFormat, StdKind)
import pytest
import yaml

SHA = 'ab' * 32


def valid() -> dict[str, Any]:
    return {
        'format': 'torchscript',
        'file': 'actor.pt',
        'sha256': SHA,
        'output': {'kind': 'tanh_gaussian'},
        'observation': {
            'fields': ['base.v', 'goal.dx_body'],
            'normalization': {'mean': [0.1, 1.0], 'std': [0.5, 2.0], 'applied_in_model': True}},
        'action': {'names': ['linear_x', 'angular_z'], 'low': [-0.5, -1.5], 'high': [0.5, 1.5]},
        'provenance': {'dataset': 'diffdrive-medium', 'algorithm': 'd3rlpy IQL',
                       'objective': 'reach goals', 'created': '2026-11-25T10:00:00+00:00',
                       'seed': 3, 'operator': 'lab A'},
    }


def with_onnx_alternative() -> dict[str, Any]:
    data = valid()
    data['alternatives'] = [{'format': 'onnx', 'file': 'actor.onnx', 'sha256': 'cd' * 32}]
    return data


def state_dict_manifest() -> dict[str, Any]:
    data = valid()
    data['format'] = 'state_dict'
    data['observation']['normalization']['applied_in_model'] = False
    data['architecture'] = {'hidden_sizes': [64, 64], 'std': 'head'}
    return data


def test_a_valid_manifest_round_trips_through_yaml(tmp_path: pathlib.Path) -> None:
    manifest = ActorManifest.from_dict(valid(), tmp_path)
    path = manifest.save(tmp_path / 'actor.pt.yaml')
    loaded = ActorManifest.load(path)
    assert loaded == manifest
    assert loaded.format is ModelFormat.TORCHSCRIPT
    assert loaded.model_path == tmp_path / 'actor.pt'
    assert loaded.provenance.extra == {'operator': 'lab A'}
    assert (loaded.obs_dim, loaded.action_dim) == (2, 2)


def test_alternatives_round_trip_and_can_become_the_primary_file(tmp_path: pathlib.Path) -> None:
    manifest = ActorManifest.from_dict(with_onnx_alternative(), tmp_path)
    assert ActorManifest.load(manifest.save(tmp_path / 'actor.pt.yaml')) == manifest
    torchscript, onnx = manifest.model_files
    assert (torchscript.format, torchscript.file) == (ModelFormat.TORCHSCRIPT, 'actor.pt')
    assert (onnx.format, onnx.sha256) == (ModelFormat.ONNX, 'cd' * 32)
    swapped = manifest.with_primary(onnx)
    assert (swapped.format, swapped.model_path, swapped.sha256) == (
        ModelFormat.ONNX, tmp_path / 'actor.onnx', 'cd' * 32)
    assert swapped.alternatives == (torchscript,)
    assert swapped.provenance == manifest.provenance
    with pytest.raises(ValueError, match='not certified'):
        manifest.with_primary(ModelFile(ModelFormat.ONNX, 'other.onnx', SHA))


def test_action_scale_and_offset_map_unit_actions_to_the_bounds() -> None:
    action = ActorManifest.from_dict(valid()).action
    np.testing.assert_allclose(action.offset + action.scale * -1.0, action.low)
    np.testing.assert_allclose(action.offset + action.scale * 1.0, action.high)


def test_a_scalar_assumed_std_applies_to_every_action() -> None:
    data = valid()
    data['output'] = {'kind': 'deterministic', 'assumed_std': 0.2}
    output = ActorManifest.from_dict(data).output
    assert output.kind is OutputKind.DETERMINISTIC
    assert output.assumed_std == (0.2, 0.2)


def test_an_unquoted_yaml_date_is_accepted_as_created(tmp_path: pathlib.Path) -> None:
    text = yaml.safe_dump(valid()).replace("'2026-11-25T10:00:00+00:00'", '2026-11-25')
    (tmp_path / 'm.yaml').write_text(text)
    assert ActorManifest.load(tmp_path / 'm.yaml').provenance.created == '2026-11-25'


def test_a_state_dict_manifest_keeps_its_architecture() -> None:
    manifest = ActorManifest.from_dict(state_dict_manifest())
    assert manifest.architecture is not None
    assert manifest.architecture.std is StdKind.HEAD
    assert ActorManifest.from_dict(manifest.to_dict()) == manifest


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set (or, with KeyError, delete) the entry at a dotted path; digits index lists."""
    def apply(data: Any) -> None:
        *parents, key = (int(part) if part.isdigit() else part for part in path.split('.'))
        for parent in parents:
            data = data[parent]
        if value is KeyError:
            del data[key]
        else:
            data[key] = value
    return apply


BROKEN = {
    'format missing': (valid, _set('format', KeyError), r'^format: required'),
    'format unknown': (valid, _set('format', 'pickle'), r"^format: 'pickle' is not one of"),
    'sha256 short': (valid, _set('sha256', 'abc'), r'^sha256: expected 64 hexadecimal'),
    'version': (valid, _set('manifest_version', 2), r'^manifest_version: 2 is not understood'),
    'unknown top key': (valid, _set('model', 'x'), r"^manifest: unknown key\(s\) \['model'\]"),
    'low length': (valid, _set('action.low', [-1, -1, -1]),
                   r'^action\.low: expected 2 values \(one per action\.names\), got 3'),
    'low above high': (valid, _set('action.high', [0.5, -2.0]),
                       r"^action: low must be below high for \['angular_z'\]"),
    'low not a number': (valid, _set('action.low', [-1, 'x']), r'^action\.low\[1\]: expected a'),
    'names repeat': (valid, _set('action.names', ['v', 'v']), r'^action\.names: names repeat'),
    'kind unknown': (valid, _set('output.kind', 'beta'), r"^output\.kind: 'beta' is not one"),
    'output key': (valid, _set('output.std', 1.0), r"^output: unknown key\(s\) \['std'\]"),
    'std for gaussian': (valid, _set('output.assumed_std', 0.1),
                         r'^output\.assumed_std: only used by deterministic'),
    'deterministic without std': (valid, _set('output.kind', 'deterministic'),
                                  r'^output\.assumed_std: required for a deterministic'),
    'command units for gaussian': (valid, _set('output.mean_in_command_units', True),
                                   r'^output\.mean_in_command_units: only deterministic'),
    'unknown field': (valid, _set('observation.fields', ['base.v', 'goal.dz']),
                      r"^observation\.fields\[1\]: unknown observation feature 'goal\.dz'"),
    'norm length': (valid, _set('observation.normalization.std', [1.0]),
                    r'^observation\.normalization\.std: expected 2 values'),
    'norm zero std': (valid, _set('observation.normalization.std', [1.0, 0.0]),
                      r'^observation\.normalization\.std: every std must be positive'),
    'norm flag missing': (valid, _set('observation.normalization.applied_in_model', KeyError),
                          r'^observation\.normalization\.applied_in_model: required'),
    'architecture for torchscript': (valid, _set('architecture', {'hidden_sizes': [8]}),
                                     r'^architecture: only used by format state_dict'),
    'state_dict without architecture': (state_dict_manifest, _set('architecture', KeyError),
                                        r'^architecture: required'),
    'std none for gaussian': (state_dict_manifest, _set('architecture.std', 'none'),
                              r"^architecture\.std: 'none' does not fit output\.kind"),
    'bad activation': (state_dict_manifest, _set('architecture.activation', 'swish'),
                       r"^architecture\.activation: 'swish' is not one of"),
    'bad hidden sizes': (state_dict_manifest, _set('architecture.hidden_sizes', [64, 0]),
                         r'^architecture\.hidden_sizes: expected a list of positive integers'),
    'state_dict normalised in model': (
        state_dict_manifest, _set('observation.normalization.applied_in_model', True),
        r'^observation\.normalization\.applied_in_model: a state_dict holds weights only'),
    'provenance dataset': (valid, _set('provenance.dataset', KeyError),
                           r'^provenance\.dataset: required'),
    'provenance created': (valid, _set('provenance.created', 'yesterday'),
                           r"^provenance\.created: 'yesterday' is not an ISO 8601 date"),
    'provenance seed': (valid, _set('provenance.seed', 'one'), r'^provenance\.seed: expected'),
    'alternatives not a list': (valid, _set('alternatives', 'actor.onnx'),
                                r"^alternatives: expected a list of files, got 'actor\.onnx'"),
    'alternative without hash': (with_onnx_alternative, _set('alternatives.0.sha256', KeyError),
                                 r'^alternatives\[0\]\.sha256: required'),
    'alternative bad hash': (with_onnx_alternative, _set('alternatives.0.sha256', 'x'),
                             r'^alternatives\[0\]\.sha256: expected 64 hexadecimal'),
    'alternative key': (with_onnx_alternative, _set('alternatives.0.device', 'cuda'),
                        r"^alternatives\[0\]: unknown key\(s\) \['device'\]"),
    'alternative d3rlpy': (with_onnx_alternative, _set('alternatives.0.format', 'd3rlpy'),
                           r'^alternatives\[0\]\.format: d3rlpy cannot share a manifest'),
    'alternative of a state_dict': (
        state_dict_manifest, _set('alternatives', [{'format': 'onnx', 'file': 'a.onnx',
                                                    'sha256': SHA}]),
        r'^format: state_dict cannot share a manifest'),
    'alternative repeats the format': (
        with_onnx_alternative, _set('alternatives.0.format', 'torchscript'),
        r'^alternatives\[0\]\.format: torchscript is listed twice'),
    'alternative repeats the file': (
        with_onnx_alternative, _set('alternatives.0.file', 'actor.pt'),
        r"^alternatives\[0\]\.file: 'actor\.pt' is listed twice"),
}


@pytest.mark.parametrize('make, breaks, message', BROKEN.values(), ids=list(BROKEN))
def test_validation_errors_name_the_offending_key(make: Callable[[], dict[str, Any]],
                                                  breaks: Callable[[dict[str, Any]], None],
                                                  message: str) -> None:
    data = copy.deepcopy(make())
    breaks(data)
    with pytest.raises(ManifestError, match=message):
        ActorManifest.from_dict(data)


def test_loading_names_the_manifest_file_in_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ManifestError, match='does not exist'):
        ActorManifest.load(tmp_path / 'absent.yaml')
    (tmp_path / 'broken.yaml').write_text('format: [unclosed')
    with pytest.raises(ManifestError, match='broken.yaml is not valid YAML'):
        ActorManifest.load(tmp_path / 'broken.yaml')
    data = valid()
    data['action']['low'] = [-1.0]
    (tmp_path / 'bad.yaml').write_text(yaml.safe_dump(data))
    with pytest.raises(ManifestError, match=r'bad\.yaml: action\.low: expected 2 values'):
        ActorManifest.load(tmp_path / 'bad.yaml')


def test_find_manifest_resolves_a_model_file_to_its_manifest(tmp_path: pathlib.Path) -> None:
    (tmp_path / 'actor.pt').write_bytes(b'model')
    with pytest.raises(ManifestError, match=r'expected exactly one manifest .* found none'):
        find_manifest(tmp_path / 'actor.pt')
    (tmp_path / 'certified.yaml').write_text(yaml.safe_dump(valid()))
    assert find_manifest(tmp_path / 'actor.pt') == tmp_path / 'certified.yaml'
    (tmp_path / 'copy.yml').write_text(yaml.safe_dump(valid()))
    with pytest.raises(ManifestError, match='expected exactly one manifest'):
        find_manifest(tmp_path / 'actor.pt')
    (tmp_path / 'actor.pt.yaml').write_text(yaml.safe_dump(valid()))
    assert find_manifest(tmp_path / 'actor.pt') == tmp_path / 'actor.pt.yaml'
    assert find_manifest(tmp_path / 'copy.yml') == tmp_path / 'copy.yml'
