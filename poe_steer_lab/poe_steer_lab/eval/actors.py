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

"""
Frozen actors of different competence for the evaluation, trained once into a cache folder.

* competent: the shipped default actor when given, else the training pipeline's full recipe;
* medium: the pipeline (CQL) on a twentieth of the data with a sixth of the gradient steps;
* poor: behaviour cloning (d3rlpy BC, stochastic policy) on poor data: a behaviour that drives
  random commands most of the time, so the conditional mean of its actions is a weak,
  shrunken version of the goal-seeking controller.

Each actor lives in ``<cache>/<name>/`` with the recipe it was made from (``recipe.yaml``);
a folder whose recipe matches is reused, so reruns train nothing.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import pathlib
from typing import Any

import numpy as np
from poe_steer_lab.offline.behaviour import BehaviourConfig
from poe_steer_lab.offline.dataset import (ACTION_NAMES, DatasetConfig, describe,
                                           generate_episodes, OBSERVATION_FIELDS,
                                           to_mdp_dataset)
from poe_steer_lab.offline.export import export_actor
from poe_steer_lab.offline.train import objective, train, TrainConfig
from poe_steer_ros.core.manifest import ModelFormat, Provenance
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW
from poe_steer_sim.world import default_world
import yaml

RECIPE_FILE = 'recipe.yaml'
POOR_BEHAVIOUR = BehaviourConfig(noise_scale=(1.0, 1.0), burst_probability=0.25,
                                 burst_steps=(8, 24))
"""Random command bursts about 80 % of the time, noisy goal seeking in between."""


@dataclasses.dataclass(frozen=True)
class CloningRecipe:
    """
    Behaviour cloning with d3rlpy's BC (stochastic policy) on a dataset of the given behaviour.

    :param dataset: episodes, seed and behaviour of the data.
    :param n_steps: gradient steps.
    :param batch_size: minibatch size.
    :param hidden: widths of the policy's hidden layers.
    """

    dataset: DatasetConfig
    n_steps: int = 3000
    batch_size: int = 256
    hidden: tuple[int, ...] = (256, 256)


Recipe = TrainConfig | CloningRecipe


@dataclasses.dataclass(frozen=True)
class ActorSpec:
    """
    One evaluated actor: its name, what it stands for and how to make it.

    :param name: table name and cache folder.
    :param description: one line for the report.
    :param recipe: how to train it (ignored when ``manifest`` is given).
    :param manifest: an existing actor's manifest to use as is (the shipped default).
    """

    name: str
    description: str
    recipe: Recipe
    manifest: pathlib.Path | None = None


def default_actors(quick: bool, competent_manifest: pathlib.Path | None = None
                   ) -> tuple[ActorSpec, ...]:
    """
    Return the competent, medium and poor actors (tiny budgets when ``quick``).

    :param quick: train each in seconds, for the tests (not competent at all).
    :param competent_manifest: the shipped default actor to use as the competent one; None
        trains the pipeline's full recipe instead.
    """
    if quick:
        tiny = TrainConfig.quick()
        poor_data = DatasetConfig(episodes=6, max_episode_s=10.0, behaviour=POOR_BEHAVIOUR)
        return (ActorSpec('competent', 'pipeline quick recipe (test budget)', tiny,
                          competent_manifest),
                ActorSpec('medium', 'pipeline quick recipe, seed 1 (test budget)',
                          dataclasses.replace(tiny, seed=1)),
                ActorSpec('poor', 'BC on poor data (test budget)',
                          CloningRecipe(poor_data, n_steps=200, batch_size=64, hidden=(64, 64))))
    full = TrainConfig()
    return (ActorSpec('competent', 'default actor: pipeline CQL on 1000 behaviour episodes',
                      full, competent_manifest),
            ActorSpec('medium', 'pipeline CQL on 50 behaviour episodes, 800 steps',
                      dataclasses.replace(full, episodes=50, n_steps=800)),
            ActorSpec('poor', 'd3rlpy BC (stochastic) on 200 episodes of a random-ish behaviour',
                      CloningRecipe(DatasetConfig(episodes=200, behaviour=POOR_BEHAVIOUR))))


def prepare_actors(specs: tuple[ActorSpec, ...], cache: pathlib.Path,
                   progress: bool = False) -> dict[str, pathlib.Path]:
    """
    Return each actor's manifest, training the ones whose cached recipe is missing or stale.

    :param specs: the actors, in table order.
    :param cache: folder of the trained actors (created if needed).
    :param progress: show the trainers' progress bars.
    :returns: name -> manifest path.
    :raises FileNotFoundError: if a given manifest does not exist.
    """
    manifests = {}
    for spec in specs:
        if spec.manifest is not None:
            if not spec.manifest.is_file():
                raise FileNotFoundError(f'actor {spec.name}: manifest {spec.manifest} does not '
                                        'exist')
            manifests[spec.name] = spec.manifest
            continue
        folder = cache / spec.name
        recipe_text = yaml.safe_dump(_plain(spec.recipe), sort_keys=True)
        manifest = folder / f'{spec.name}.pt.yaml'
        recipe_path = folder / RECIPE_FILE
        if not (manifest.is_file() and recipe_path.is_file()
                and recipe_path.read_text(encoding='utf-8') == recipe_text):
            folder.mkdir(parents=True, exist_ok=True)
            if isinstance(spec.recipe, CloningRecipe):
                manifest = _clone(spec.recipe, folder, spec.name, progress)
            else:
                manifest = train(spec.recipe, folder, spec.name, progress=progress).manifest_path
            recipe_path.write_text(recipe_text, encoding='utf-8')
        manifests[spec.name] = manifest
    return manifests


def _clone(recipe: CloningRecipe, folder: pathlib.Path, name: str, progress: bool
           ) -> pathlib.Path:
    """Generate the recipe's dataset, fit d3rlpy BC and export it with its manifest."""
    import d3rlpy
    import structlog
    import torch

    world = default_world()
    dataset = recipe.dataset
    torch.set_num_threads(1)
    d3rlpy.seed(dataset.seed)
    # d3rlpy logs every build and epoch through structlog: keep warnings only.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    records = generate_episodes(dataset, world, 'poor data' if progress else None)
    algo = d3rlpy.algos.BCConfig(
        batch_size=recipe.batch_size, policy_type='stochastic',
        encoder_factory=d3rlpy.models.VectorEncoderFactory(list(recipe.hidden)),
        observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(),
        action_scaler=d3rlpy.preprocessing.MinMaxActionScaler(
            minimum=np.array(COMMAND_LOW), maximum=np.array(COMMAND_HIGH)),
    ).create(device='cpu:0')
    algo.fit(to_mdp_dataset(records, OBSERVATION_FIELDS), n_steps=recipe.n_steps,
             n_steps_per_epoch=recipe.n_steps, show_progress=progress,
             logger_adapter=d3rlpy.logging.NoopAdapterFactory())
    info = describe(dataset, records, world)
    provenance = Provenance.now(
        f"{info['name']}: {info['episodes']} episodes of {info['behaviour']}",
        f'd3rlpy {d3rlpy.__version__} BC (stochastic policy)', objective(world), dataset.seed,
        dataset_details=info, hyperparameters={'n_steps': recipe.n_steps,
                                               'batch_size': recipe.batch_size,
                                               'hidden': list(recipe.hidden)})
    manifests = export_actor(algo, folder, observation_fields=OBSERVATION_FIELDS,
                             action_names=ACTION_NAMES, provenance=provenance, name=name,
                             formats=(ModelFormat.TORCHSCRIPT,))
    return manifests[ModelFormat.TORCHSCRIPT]


def _plain(value: Any) -> Any:
    """Return a dataclass tree as YAML-safe builtins (enums as values, tuples as lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {'type': type(value).__name__,
                **{field.name: _plain(getattr(value, field.name))
                   for field in dataclasses.fields(value)}}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
