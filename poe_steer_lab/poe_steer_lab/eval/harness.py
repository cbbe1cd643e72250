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
``poe-steer eval``: prepare the actors, run the protocol, write the report.

The full configuration is what ``docs/results.md`` reports; the quick one shrinks every axis
so that the tests can prove each table and plot is produced, in well under a minute.
"""

from __future__ import annotations

import os
import pathlib
import time

from poe_steer_lab.eval.actors import default_actors, prepare_actors
from poe_steer_lab.eval.analysis import Results
from poe_steer_lab.eval.priors import PriorSettings
from poe_steer_lab.eval.protocol import EvalConfig, run_protocol
from poe_steer_lab.eval.report import write_report

DEFAULT_COMMAND = 'make eval'


def quick_config() -> EvalConfig:
    """Return the smallest configuration that still fills every table and plot."""
    return EvalConfig(seeds=(0,), episodes_per_seed=2, max_episode_s=5.0, alphas=(0.3, 0.5),
                      kl_budgets=(0.2,), sweep_alpha=0.5, sweep_kl_budget=0.2, grid_noise=1.0,
                      noise_scales=(1.0,), grid_shifts_m=(0.0,), shifts_m=(0.0, 1.0),
                      priors=PriorSettings(), resamples=200, workers=1)


def full_config(workers: int = 2) -> EvalConfig:
    """Return the configuration of ``docs/results.md``."""
    return EvalConfig(workers=workers)


def run_evaluation(out_dir: pathlib.Path, *, quick: bool, cache_dir: pathlib.Path,
                   competent_manifest: pathlib.Path | None, workers: int = 2,
                   progress: bool = True, command: str = DEFAULT_COMMAND) -> pathlib.Path:
    """
    Train (or reuse) the actors, play the protocol and write ``results.md`` with its plots.

    :param out_dir: folder of the report and the PNGs.
    :param quick: tiny budgets everywhere (tests); the report says so.
    :param cache_dir: folder of the trained actors, reused across runs.
    :param competent_manifest: the shipped default actor as the competent one (None: train).
    :param workers: worker processes of the full mode (the quick mode runs in-process).
    :param progress: show progress bars.
    :param command: the command line recorded in the report.
    :returns: the report's path.
    """
    started = time.perf_counter()
    specs = default_actors(quick, competent_manifest)
    manifests = prepare_actors(specs, cache_dir, progress)
    config = quick_config() if quick else full_config(workers)
    runs = run_protocol(config, manifests, progress)
    results = Results(config, tuple(manifests), runs)
    descriptions = {spec.name: f'{spec.description} ({os.path.relpath(manifests[spec.name])})'
                    for spec in specs}
    return write_report(results, out_dir, wall_time_s=time.perf_counter() - started,
                        command=command, descriptions=descriptions, quick=quick)
