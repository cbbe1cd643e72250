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

"""d3rlpy learnables (.d3): mean, log-std and scalers recovered from actors trained here."""

from __future__ import annotations

import pathlib
from typing import Any

from actor_support import (fit_d3rlpy, offset_observations, provenance, small_encoder,
                           tiny_dataset)
import d3rlpy
import numpy as np
from poe_steer_lab.offline.export import write_manifest
from poe_steer_ros.core.actor import ActorLoadError, load_actor
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import (ActionSpec, ModelFormat, Normalization, ObservationSpec,
                                         OutputSpec)
import pytest
import torch

FIELDS = ('array.0', 'array.1', 'array.2')
NAMES = ('linear_x', 'angular_z')
KINDS = {'iql': OutputKind.GAUSSIAN, 'cql': OutputKind.TANH_GAUSSIAN,
         'td3_plus_bc': OutputKind.DETERMINISTIC}


@pytest.fixture(scope='module')
def algos() -> dict[str, Any]:
    """IQL with both scalers, CQL with a min-max observation scaler, TD3+BC with none."""
    encoder = small_encoder()
    dataset = tiny_dataset()
    configs = {
        'iql': d3rlpy.algos.IQLConfig(
            actor_encoder_factory=encoder, critic_encoder_factory=encoder,
            value_encoder_factory=encoder, batch_size=32,
            observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(),
            action_scaler=d3rlpy.preprocessing.MinMaxActionScaler()),
        'cql': d3rlpy.algos.CQLConfig(
            actor_encoder_factory=encoder, critic_encoder_factory=encoder, batch_size=32,
            observation_scaler=d3rlpy.preprocessing.MinMaxObservationScaler()),
        'td3_plus_bc': d3rlpy.algos.TD3PlusBCConfig(
            actor_encoder_factory=encoder, critic_encoder_factory=encoder, batch_size=32),
    }
    return {name: fit_d3rlpy(config, dataset) for name, config in configs.items()}


def action_spec(algo: Any) -> ActionSpec:
    scaler = algo.config.action_scaler
    if scaler is None:
        return ActionSpec(NAMES, (-1.0, -1.0), (1.0, 1.0))
    return ActionSpec(NAMES, tuple(scaler.minimum.tolist()), tuple(scaler.maximum.tolist()))


def save_learnable(algo: Any, directory: pathlib.Path, output: OutputSpec | None = None,
                   observation: ObservationSpec = ObservationSpec(FIELDS),
                   action: ActionSpec | None = None) -> pathlib.Path:
    algo.save(str(directory / 'actor.d3'))
    kind = KINDS[algo.config.get_type()]
    if output is None:
        output = OutputSpec(kind, (0.2, 0.2) if kind is OutputKind.DETERMINISTIC else None)
    return write_manifest(directory / 'actor.d3', model_format=ModelFormat.D3RLPY,
                          output=output, observation=observation,
                          action=action or action_spec(algo), provenance=provenance())


def observations(rows: int = 6) -> np.ndarray:
    return offset_observations(rows, seed=5)


def to_command(mean: np.ndarray, kind: OutputKind, action: ActionSpec) -> np.ndarray:
    unit = np.tanh(mean) if kind is OutputKind.TANH_GAUSSIAN else np.clip(mean, -1.0, 1.0)
    return action.offset + action.scale * unit


def test_the_policy_module_does_not_apply_the_scalers(algos: dict[str, Any]) -> None:
    """Confirms docs/ENVIRONMENT.md 7: scalers live outside ``impl.policy`` in d3rlpy 2.8.0."""
    iql = algos['iql']
    obs = torch.as_tensor(observations(), dtype=torch.float32)
    unscale = iql.config.action_scaler.reverse_transform
    with torch.no_grad():
        raw = unscale(iql.impl.policy(obs).squashed_mu).numpy()
        scaled = unscale(iql.impl.policy(iql.config.observation_scaler.transform(obs))
                         .squashed_mu).numpy()
    greedy = iql.predict(obs.numpy())
    np.testing.assert_allclose(scaled, greedy, atol=1e-6)
    assert np.abs(raw - greedy).max() > 1e-3


@pytest.mark.parametrize('name', list(KINDS))
def test_learnable_round_trip_reproduces_the_greedy_action_and_log_std(
        algos: dict[str, Any], tmp_path: pathlib.Path, name: str) -> None:
    algo = algos[name]
    actor = load_actor(save_learnable(algo, tmp_path), device='cpu')
    assert actor.output_kind is KINDS[name]
    obs = observations()
    mean, log_std = actor(obs)
    np.testing.assert_allclose(to_command(mean, actor.output_kind, action_spec(algo)),
                               algo.predict(obs.astype(np.float32)), atol=1e-5)
    scaler = algo.config.observation_scaler
    with torch.no_grad():
        scaled = torch.as_tensor(obs, dtype=torch.float32)
        out = algo.impl.policy(scaler.transform(scaled) if scaler else scaled)
    if out.logstd is None:
        np.testing.assert_allclose(log_std, np.log(0.2))
    else:
        np.testing.assert_allclose(log_std, np.broadcast_to(out.logstd.numpy(), mean.shape),
                                   atol=1e-6)


def test_std_state_dependence_is_known_per_algorithm(algos: dict[str, Any],
                                                     tmp_path: pathlib.Path) -> None:
    depends = {}
    for name, algo in algos.items():
        (tmp_path / name).mkdir()
        depends[name] = load_actor(save_learnable(algo, tmp_path / name)).std_depends_on_state
    assert depends == {'iql': False, 'cql': True, 'td3_plus_bc': False}


def test_a_manifest_kind_other_than_the_policy_is_refused(algos: dict[str, Any],
                                                          tmp_path: pathlib.Path) -> None:
    manifest = save_learnable(algos['iql'], tmp_path, OutputSpec(OutputKind.TANH_GAUSSIAN))
    with pytest.raises(ActorLoadError, match='output.kind: the manifest says tanh_gaussian, the '
                                             'd3rlpy iql policy is gaussian'):
        load_actor(manifest)


def test_bounds_other_than_the_action_scaler_are_refused(algos: dict[str, Any],
                                                         tmp_path: pathlib.Path) -> None:
    wrong = ActionSpec(NAMES, (-1.0, -1.0), (1.0, 1.0))
    with pytest.raises(ActorLoadError, match=r'action\.low/high: .* differ from the d3rlpy '
                                             r'action scaler'):
        load_actor(save_learnable(algos['iql'], tmp_path, action=wrong))


@pytest.mark.parametrize('applied_in_model, message', [
    (False, 'the .d3 file carries its own observation scaler'),
    (True, 'mean/std differ from the observation scaler'),
])
def test_manifest_stats_must_not_contradict_the_scaler(
        algos: dict[str, Any], tmp_path: pathlib.Path, applied_in_model: bool,
        message: str) -> None:
    stats = Normalization((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), applied_in_model)
    manifest = save_learnable(algos['iql'], tmp_path,
                              observation=ObservationSpec(FIELDS, (), stats))
    with pytest.raises(ActorLoadError, match=message):
        load_actor(manifest)


def test_wrong_observation_size_is_refused(algos: dict[str, Any],
                                           tmp_path: pathlib.Path) -> None:
    manifest = save_learnable(algos['cql'], tmp_path, observation=ObservationSpec(FIELDS[:2]))
    with pytest.raises(ActorLoadError, match=r'd3rlpy cql expects observations of size 3, but '
                                             r'observation\.fields lists 2'):
        load_actor(manifest)


@pytest.mark.filterwarnings('ignore::DeprecationWarning', 'ignore::torch.jit.TracerWarning')
def test_a_mean_only_save_policy_export_runs_with_an_assumed_std(
        algos: dict[str, Any], tmp_path: pathlib.Path) -> None:
    """d3rlpy's own TorchScript export: greedy command only, scalers baked in."""
    iql = algos['iql']
    iql.save_policy(str(tmp_path / 'policy.pt'))
    action = action_spec(iql)
    manifest = write_manifest(
        tmp_path / 'policy.pt', model_format='torchscript',
        output=OutputSpec(OutputKind.DETERMINISTIC, (0.3, 0.3), mean_in_command_units=True),
        observation=ObservationSpec(FIELDS), action=action, provenance=provenance())
    actor = load_actor(manifest)
    obs = observations()
    mean, log_std = actor(obs)
    np.testing.assert_allclose(action.offset + action.scale * mean,
                               iql.predict(obs.astype(np.float32)), atol=1e-5)
    np.testing.assert_allclose(log_std, np.log(0.3))
