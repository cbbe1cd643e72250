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

"""The training pipeline end to end on a tiny budget: CLI, export, reload, rollouts, seeds."""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
from poe_steer_lab.cli import main
from poe_steer_lab.offline.dataset import ACTION_NAMES, OBSERVATION_FIELDS
from poe_steer_lab.offline.rollout import ActorPolicy, run_episodes, SteererPolicy
from poe_steer_lab.offline.train import (format_summary, region_distance, SHIFTED_GOALS,
                                         train, TrainConfig, TRAINING_REGION)
from poe_steer_ros.core.actor import FrozenActor, load_actor, sha256_of
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ActorManifest
from poe_steer_ros.core.safety import SafetyEnvelope
from poe_steer_ros.core.steerer import SteeringConfig
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW, DiffDriveEnv
from poe_steer_sim.world import default_world
import pytest
import yaml

WORLD = default_world()


@pytest.fixture(scope='module')
def quick_out(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Run ``poe-steer train --quick`` from an empty working directory."""
    out = tmp_path_factory.mktemp('quick')
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(out)
        assert main(['train', '--out', str(out / 'models'), '--quick', '--name', 'tiny',
                     '--report-dir', str(out / 'report')]) == 0
    return out


def load(manifest_path: pathlib.Path) -> FrozenActor:
    return load_actor(manifest_path, device='cpu', num_threads=None, warmup_passes=0)


def test_quick_training_writes_a_certified_actor_and_no_d3rlpy_logs(
        quick_out: pathlib.Path) -> None:
    manifest_path = quick_out / 'models' / 'tiny.pt.yaml'
    manifest = ActorManifest.load(manifest_path)
    assert sha256_of(quick_out / 'models' / 'tiny.pt') == manifest.sha256
    assert manifest.observation.fields == OBSERVATION_FIELDS
    assert manifest.action.names == ACTION_NAMES
    assert manifest.action.low == tuple(COMMAND_LOW)
    assert manifest.action.high == tuple(COMMAND_HIGH)
    assert manifest.output.kind is OutputKind.TANH_GAUSSIAN
    provenance = manifest.provenance
    assert provenance.algorithm.endswith('CQL') and provenance.seed == 0
    assert 'training region x in [2, 3.5], y in [-1, 1]' in provenance.objective
    assert provenance.extra['dataset_details']['episodes'] == TrainConfig.quick().episodes
    assert provenance.extra['hyperparameters']['n_steps'] == TrainConfig.quick().n_steps
    assert not (quick_out / 'd3rlpy_logs').exists()


def test_the_report_and_plot_cover_every_goal_set(quick_out: pathlib.Path) -> None:
    report = yaml.safe_load((quick_out / 'report' / 'tiny.train.yaml').read_text())
    assert list(report['evaluation']) == [TRAINING_REGION, *SHIFTED_GOALS]
    assert report['evaluation'][TRAINING_REGION]['mean_region_distance_m'] == 0.0
    assert all(entry['mean_region_distance_m'] > 0.0
               for name, entry in report['evaluation'].items() if name != TRAINING_REGION)
    assert len(report['losses']) == TrainConfig.quick().epochs
    assert (quick_out / 'report' / 'tiny_trajectories.png').stat().st_size > 0


def test_the_exported_actor_runs_closed_loop_alone_and_steered(quick_out: pathlib.Path) -> None:
    actor = load(quick_out / 'models' / 'tiny.pt.yaml')
    env = DiffDriveEnv(WORLD, max_episode_s=2.0)
    alone = run_episodes(ActorPolicy(actor, actor.observation_layout.build), env,
                         [None, [4.5, 0.0]], [1, 2])
    envelope = SafetyEnvelope(COMMAND_LOW, COMMAND_HIGH, [2.0, 8.0])
    steered_policy = SteererPolicy(actor, actor.observation_layout.build, envelope,
                                   SteeringConfig(rule='poe', alpha=0.5))
    steered = run_episodes(steered_policy, env, [[4.5, 0.0]], [2])
    for record in alone + steered:
        assert record.steps > 0 and np.isfinite(record.states).all()
        assert np.all(record.commands >= COMMAND_LOW) and np.all(record.commands <= COMMAND_HIGH)
    assert len(steered_policy.telemetry) == steered[0].steps
    assert not np.array_equal(alone[1].commands[:5], steered[0].commands[:5])


def test_the_same_seed_gives_the_same_weights_and_another_seed_other_ones(
        quick_out: pathlib.Path, tmp_path: pathlib.Path) -> None:
    config = dataclasses.replace(TrainConfig.quick(), eval_episodes=1, shifted_episodes=0)
    again = train(config, tmp_path / 'again', progress=False)
    other = train(dataclasses.replace(config, seed=1), tmp_path / 'other', progress=False)
    reference = load(quick_out / 'models' / 'tiny.pt.yaml')
    obs = reference.probe_observations(32)
    expected = reference(obs)
    assert all(np.array_equal(a, b) for a, b in zip(load(again.manifest_path)(obs), expected))
    assert not np.allclose(load(other.manifest_path)(obs)[0], expected[0])
    assert set(again.evaluation) == {TRAINING_REGION}
    assert format_summary(again).count('\n') == 2


def test_iql_exports_a_gaussian_actor(tmp_path: pathlib.Path) -> None:
    config = dataclasses.replace(TrainConfig.quick(), algorithm='iql', eval_episodes=1,
                                 shifted_episodes=0)
    result = train(config, tmp_path, progress=False)
    actor = load(result.manifest_path)
    assert actor.output_kind is OutputKind.GAUSSIAN and not actor.std_depends_on_state
    assert actor.manifest.provenance.algorithm.endswith('IQL')


def test_region_distance_is_zero_inside_and_euclidean_outside() -> None:
    assert region_distance(WORLD, (2.5, 0.0)) == 0.0
    assert region_distance(WORLD, (2.5, 2.0)) == pytest.approx(1.0)
    assert region_distance(WORLD, (4.5, -2.0)) == pytest.approx(np.hypot(1.0, 1.0))


@pytest.mark.parametrize('changes, field', [
    ({'algorithm': 'ppo'}, 'algorithm'), ({'n_steps': 5, 'epochs': 10}, 'n_steps'),
    ({'actor_hidden': ()}, 'actor_hidden'), ({'torch_threads': 0}, 'torch_threads'),
])
def test_bad_training_settings_are_refused_by_name(changes: dict[str, object],
                                                   field: str) -> None:
    with pytest.raises(ValueError, match=field):
        TrainConfig(**changes)  # type: ignore[arg-type]


def test_the_cli_refuses_a_negative_seed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(['train', '--out', 'unused', '--seed', '-3'])
    assert exit_info.value.code == 2
    assert 'expected an integer >= 0' in capsys.readouterr().err
