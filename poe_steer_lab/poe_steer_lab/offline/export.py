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
Export a trained actor as certified artifacts, each with a manifest (SHA-256, provenance).

The exported models output (mean, log_std) with the observation normalisation inside.
Sources: a torch module mapping (normalised) observations to ``(mean, log_std)`` (or to the mean
of a deterministic actor), or a d3rlpy algorithm, whose policy, scalers, output kind and action
bounds are recovered by ``core.actor.d3rlpy_actor``. Every written artifact is loaded back with
``load_actor`` and compared with the source before the export returns.

Files, for ``name='actor'``: ``actor.pt`` (TorchScript), ``actor.onnx``, ``actor.d3`` (d3rlpy
sources only), each with its manifest ``<file>.yaml``; or, with ``single_manifest``, one manifest
for the TorchScript and ONNX files (the first format's, the others as ``alternatives``), so the
loader can run whichever is fastest on the device. With a support model (``core.support``), its
``<name>.support.npz`` is written beside them and certified by the manifest's ``support`` entry.
"""

from __future__ import annotations

import copy
import pathlib
import typing
from typing import Any, NamedTuple, Sequence

import numpy as np
from poe_steer_ros.core.actor import ActorLoadError, load_actor, sha256_of
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import (ActionSpec, ActorManifest, ArchitectureSpec,
                                         INTERCHANGEABLE_FORMATS, manifest_path_for, ModelFile,
                                         ModelFormat, Normalization, ObservationSpec,
                                         OutputSpec, Provenance, SupportSpec)
from poe_steer_ros.core.support import SUPPORT_KIND, SUPPORT_SUFFIX, SupportModel
from poe_steer_ros.core.torch_actor import d3rlpy_actor, NormalizedModule, quiet_torchscript
import torch

VectorPair = tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]
"""Two per-dimension vectors: (mean, std) of observations or (low, high) of actions."""
EXPORT_FORMATS = (ModelFormat.TORCHSCRIPT, ModelFormat.ONNX, ModelFormat.D3RLPY)
_SUFFIXES = {ModelFormat.TORCHSCRIPT: '.pt', ModelFormat.ONNX: '.onnx', ModelFormat.D3RLPY: '.d3'}
_VERIFY_ROWS = 16


class ExportError(ValueError):
    """An actor that cannot be exported as asked; the message names the argument."""


def write_manifest(model_path: str | pathlib.Path, *, model_format: ModelFormat | str,
                   output: OutputSpec, observation: ObservationSpec, action: ActionSpec,
                   provenance: Provenance,
                   architecture: ArchitectureSpec | None = None,
                   alternatives: Sequence[tuple[ModelFormat | str, str | pathlib.Path]] = (),
                   support: str | pathlib.Path | None = None) -> pathlib.Path:
    """
    Hash a model file and write its validated manifest next to it (``<model file>.yaml``).

    :param alternatives: (format, path) of the same network in other formats, in the same
        directory; each is hashed and listed under ``alternatives``.
    :param support: a support model file (``core.support``) in the same directory, hashed and
        listed under ``support``.
    :returns: the manifest path.
    :raises ManifestError: if the pieces do not form a valid manifest.
    """
    model_path = pathlib.Path(model_path)
    listed = tuple(ModelFile(ModelFormat(other_format), pathlib.Path(path).name,
                             sha256_of(path)) for other_format, path in alternatives)
    support_spec = None if support is None else SupportSpec(
        SUPPORT_KIND, pathlib.Path(support).name, sha256_of(support))
    manifest = ActorManifest(ModelFormat(model_format), model_path.name, sha256_of(model_path),
                             output, observation, action, provenance, architecture,
                             model_path.parent, listed, support_spec)
    validated = ActorManifest.from_dict(manifest.to_dict(), model_path.parent)
    return validated.save(manifest_path_for(model_path))


class _ExportModule(torch.nn.Module):
    """Fix the output contract: ``(mean, log_std)`` with one log-std row per observation."""

    def __init__(self, inner: torch.nn.Module, deterministic: bool) -> None:
        super().__init__()
        self.inner = inner
        self.deterministic = deterministic

    def forward(self, obs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if self.deterministic:
            mean_only: torch.Tensor = self.inner(obs)
            return mean_only
        mean, log_std = self.inner(obs)
        return mean, log_std.expand_as(mean)


def _is_d3rlpy(source: Any) -> bool:
    if isinstance(source, torch.nn.Module):
        return False
    from d3rlpy.base import LearnableBase

    return isinstance(source, LearnableBase)


def _stats_pair(stats: VectorPair,
                obs_dim: int) -> tuple[np.ndarray, np.ndarray]:
    mean, std = (np.asarray(part, dtype=np.float64) for part in stats)
    if mean.shape != (obs_dim,) or std.shape != (obs_dim,):
        raise ExportError(f'observation_stats: expected mean and std of shape ({obs_dim},) (one '
                          f'per observation field), got {mean.shape} and {std.shape}')
    if not np.all(std > 0.0):
        raise ExportError('observation_stats: every std must be positive')
    return mean, std


def _bounds_pair(bounds: VectorPair,
                 action_dim: int) -> tuple[np.ndarray, np.ndarray]:
    low, high = (np.asarray(part, dtype=np.float64) for part in bounds)
    if low.shape != (action_dim,) or high.shape != (action_dim,):
        raise ExportError(f'action_bounds: expected low and high of shape ({action_dim},) (one '
                          f'per action name), got {low.shape} and {high.shape}')
    return low, high


def export_actor(source: torch.nn.Module | Any, out_dir: str | pathlib.Path, *,
                 observation_fields: Sequence[str], action_names: Sequence[str],
                 provenance: Provenance, goal_joints: Sequence[str] = (),
                 observation_stats: VectorPair | None = None,
                 action_bounds: VectorPair | None = None,
                 output: OutputSpec | None = None, name: str = 'actor',
                 formats: Sequence[ModelFormat | str] = (ModelFormat.TORCHSCRIPT,
                                                         ModelFormat.ONNX),
                 single_manifest: bool = False, scan_range_m: float | None = None,
                 support: SupportModel | None = None,
                 atol: float = 1e-4) -> dict[ModelFormat, pathlib.Path]:
    """
    Export a trained actor and certify each artifact with a manifest.

    :param source: a torch module (``obs -> (mean, log_std)`` in pre-squash space, or ``obs ->
        mean`` when deterministic; it is copied, not changed) or a built d3rlpy algorithm.
    :param out_dir: directory for the files (created if needed).
    :param observation_fields: named observation features (see ``core.observation``).
    :param action_names: one name per action dimension.
    :param provenance: dataset, algorithm, objective, creation time (``Provenance.now``).
    :param goal_joints: joint order of a joint-position goal, if the fields use one.
    :param observation_stats: ``(mean, std)`` the source expects raw observations normalised
        with; baked into the exported model. A d3rlpy source brings its scaler instead.
    :param action_bounds: ``(low, high)`` command bounds. Required for a torch module; a d3rlpy
        source with an action scaler takes the scaler's, without one its actions are commands
        in ``[-1, 1]`` unless you give the mapping used to normalise the dataset.
    :param output: output kind (required for a torch module) and, for a deterministic actor,
        the assumed std (required). Inferred for d3rlpy except the assumed std.
    :param name: file stem of the artifacts.
    :param formats: any of torchscript, onnx and (d3rlpy sources) d3rlpy.
    :param single_manifest: certify all files in one manifest, the first format's, listing the
        others as ``alternatives`` (TorchScript and ONNX only).
    :param scan_range_m: range cap of ``scan.<i>`` fields (required with them).
    :param support: where the actor was trained; written as ``<name>.support.npz`` and
        certified by every manifest.
    :param atol: largest output difference accepted between an artifact and the source.
    :returns: manifest path per format (the same path for every format with
        ``single_manifest``).
    :raises ExportError: naming the argument that is missing or inconsistent, or when an
        artifact does not reproduce the source.
    """
    obs_dim, action_dim = len(observation_fields), len(action_names)
    wanted = list(dict.fromkeys(_export_format(f, i) for i, f in enumerate(formats)))
    if single_manifest and any(f not in INTERCHANGEABLE_FORMATS for f in wanted):
        raise ExportError(f'formats: one manifest certifies '
                          f'{[f.value for f in INTERCHANGEABLE_FORMATS]} files only, got '
                          f'{[f.value for f in wanted]}')
    stats = None if observation_stats is None else _stats_pair(observation_stats, obs_dim)
    if _is_d3rlpy(source):
        prepared = _prepare_d3rlpy(source, obs_dim, action_dim, stats, action_bounds, output)
    elif isinstance(source, torch.nn.Module):
        if ModelFormat.D3RLPY in wanted:
            raise ExportError('formats: d3rlpy is only possible for a d3rlpy source')
        prepared = _prepare_module(source, action_dim, stats, action_bounds, output)
    else:
        raise ExportError(f'source: expected a torch.nn.Module or a d3rlpy algorithm, got '
                          f'{type(source).__name__}')
    module, output, bounds, model_norm, d3_norm = prepared
    deterministic = output.kind is OutputKind.DETERMINISTIC
    wrapper = _ExportModule(module, deterministic).eval()
    probe = _probe_observations(stats, obs_dim)
    _check_source(wrapper, probe, action_dim, deterministic)
    action = ActionSpec(tuple(action_names), tuple(bounds[0]), tuple(bounds[1]))
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_paths = {model_format: out_dir / f'{name}{_SUFFIXES[model_format]}'
                   for model_format in wanted}
    for model_format, model_path in model_paths.items():
        if model_format is ModelFormat.TORCHSCRIPT:
            with quiet_torchscript():
                traced = torch.jit.trace(  # type: ignore[no-untyped-call]
                    wrapper, torch.as_tensor(probe[:4], dtype=torch.float32))
                traced.save(str(model_path))
        elif model_format is ModelFormat.ONNX:
            _write_onnx(wrapper, probe, model_path, deterministic)
        else:
            typing.cast(Any, source).save(str(model_path))  # d3rlpy: checked above
    if support is not None and support.obs_dim != obs_dim:
        raise ExportError(f'support: models {support.obs_dim} observation fields, '
                          f'observation_fields lists {obs_dim}')
    support_path = None if support is None else support.save(out_dir / f'{name}{SUPPORT_SUFFIX}')
    manifests = {}
    for model_format in wanted[:1] if single_manifest else wanted:
        norm = d3_norm if model_format is ModelFormat.D3RLPY else model_norm
        observation = ObservationSpec(tuple(observation_fields), tuple(goal_joints), norm,
                                      scan_range_m)
        alternatives = [(other, model_paths[other]) for other in wanted[1:]
                        if single_manifest]
        manifests[model_format] = write_manifest(
            model_paths[model_format], model_format=model_format, output=output,
            observation=observation, action=action, provenance=provenance,
            alternatives=alternatives, support=support_path)
    if single_manifest:
        manifests = dict.fromkeys(wanted, manifests[wanted[0]])
    for model_format, manifest_path in manifests.items():
        _verify(manifest_path, model_format, wrapper, atol)
    return manifests


def _export_format(value: ModelFormat | str, index: int) -> ModelFormat:
    try:
        model_format = ModelFormat(value)
    except ValueError:
        model_format = None
    if model_format not in EXPORT_FORMATS:
        raise ExportError(f'formats[{index}]: {value!r} is not one of '
                          f'{[f.value for f in EXPORT_FORMATS]}')
    return model_format


class _Prepared(NamedTuple):
    """A source reduced to one module on raw observations plus what its manifests say."""

    module: torch.nn.Module
    output: OutputSpec
    bounds: tuple[np.ndarray, np.ndarray]
    model_norm: Normalization | None
    """Normalisation recorded for the TorchScript/ONNX files (always inside them)."""
    d3_norm: Normalization | None
    """Normalisation recorded for the .d3 file (its scaler, or stats the loader applies)."""


def _prepare_module(source: torch.nn.Module, action_dim: int,
                    stats: tuple[np.ndarray, np.ndarray] | None,
                    action_bounds: VectorPair | None,
                    output: OutputSpec | None) -> _Prepared:
    if output is None or action_bounds is None:
        raise ExportError('output and action_bounds: required to export a torch module')
    module = copy.deepcopy(source).cpu()
    norm = None
    if stats is not None:
        module = NormalizedModule(module, *stats)
        norm = Normalization(tuple(stats[0].tolist()), tuple(stats[1].tolist()), True)
    return _Prepared(module, output, _bounds_pair(action_bounds, action_dim), norm, None)


def _prepare_d3rlpy(algo: Any, obs_dim: int, action_dim: int,
                    stats: tuple[np.ndarray, np.ndarray] | None,
                    action_bounds: VectorPair | None,
                    output: OutputSpec | None) -> _Prepared:
    """Recover the actor from a d3rlpy algorithm and reconcile it with the arguments."""
    try:
        recovered = d3rlpy_actor(algo)
    except ActorLoadError as err:
        raise ExportError(f'source: {err}') from None
    if (recovered.obs_dim, recovered.action_dim) != (obs_dim, action_dim):
        raise ExportError(
            f'observation_fields/action_names: the d3rlpy model maps {recovered.obs_dim} '
            f'observations to {recovered.action_dim} actions, the names give {obs_dim} -> '
            f'{action_dim}')
    deterministic = recovered.kind is OutputKind.DETERMINISTIC
    if output is not None and output.kind is not recovered.kind:
        raise ExportError(f'output: kind {output.kind.value} differs from the d3rlpy '
                          f'{recovered.algorithm} policy, which is {recovered.kind.value}')
    if deterministic and (output is None or output.assumed_std is None):
        raise ExportError(f'output: d3rlpy {recovered.algorithm} has a deterministic policy; pass '
                          'OutputSpec(OutputKind.DETERMINISTIC, assumed_std=...)')
    output = output or OutputSpec(recovered.kind)
    module = copy.deepcopy(recovered.module).cpu()
    model_norm = d3_norm = None
    if recovered.obs_mean is not None and recovered.obs_std is not None:
        if stats is not None:
            raise ExportError('observation_stats: the d3rlpy algorithm has an observation '
                              'scaler already; normalising twice would be wrong')
        model_norm = d3_norm = Normalization(tuple(recovered.obs_mean.tolist()),
                                             tuple(recovered.obs_std.tolist()), True)
    elif stats is not None:
        module = NormalizedModule(module, *stats)
        mean, std = tuple(stats[0].tolist()), tuple(stats[1].tolist())
        model_norm = Normalization(mean, std, applied_in_model=True)
        d3_norm = Normalization(mean, std, applied_in_model=False)
    if recovered.action_low is not None and recovered.action_high is not None:
        bounds = (recovered.action_low, recovered.action_high)
        if action_bounds is not None and not np.allclose(
                _bounds_pair(action_bounds, action_dim), bounds, rtol=1e-5, atol=1e-6):
            raise ExportError('action_bounds: differ from the d3rlpy action scaler '
                              f'{bounds[0].tolist()} / {bounds[1].tolist()}; leave them out')
    elif action_bounds is not None:
        bounds = _bounds_pair(action_bounds, action_dim)
    else:
        bounds = (-np.ones(action_dim), np.ones(action_dim))
    return _Prepared(module, output, bounds, model_norm, d3_norm)


def _probe_observations(stats: tuple[np.ndarray, np.ndarray] | None, obs_dim: int) -> np.ndarray:
    """Raw observations for tracing and checks: within one std of the mean (seeded)."""
    mean, std = stats if stats is not None else (np.zeros(obs_dim), np.ones(obs_dim))
    spread = np.random.default_rng(1).uniform(-1.0, 1.0, size=(_VERIFY_ROWS, obs_dim))
    return (mean + std * spread).astype(np.float32)


def _check_source(wrapper: torch.nn.Module, probe: np.ndarray, action_dim: int,
                  deterministic: bool) -> None:
    try:
        with torch.inference_mode():
            out = wrapper(torch.as_tensor(probe))
    except (RuntimeError, ValueError, TypeError) as err:
        expected = 'mean' if deterministic else '(mean, log_std)'
        raise ExportError(f'source: cannot map a ({len(probe)}, {probe.shape[1]}) observation '
                          f'batch to {expected}: {err}') from None
    mean = out if deterministic else out[0]
    if not isinstance(mean, torch.Tensor) or tuple(mean.shape) != (len(probe), action_dim):
        shape = tuple(mean.shape) if isinstance(mean, torch.Tensor) else type(mean).__name__
        raise ExportError(f'source: mean has shape {shape}, expected ({len(probe)}, '
                          f'{action_dim}) (one column per action name)')


def _write_onnx(wrapper: torch.nn.Module, probe: np.ndarray, path: pathlib.Path,
                deterministic: bool) -> None:
    batch = torch.export.Dim('batch', min=1)
    torch.onnx.export(
        wrapper, (torch.as_tensor(probe[:4]),), str(path), input_names=['observation'],
        output_names=['mean'] if deterministic else ['mean', 'log_std'],
        dynamic_shapes=({0: batch},), dynamo=True, external_data=False, verbose=False)


def _verify(manifest_path: pathlib.Path, model_format: ModelFormat, wrapper: torch.nn.Module,
            atol: float) -> None:
    """Load the artifact as the node will and compare it with the source."""
    actor = load_actor(manifest_path, device='cpu', num_threads=None, warmup_passes=0,
                       model_format=model_format.value)
    probe = actor.probe_observations(_VERIFY_ROWS)
    mean, log_std = actor(probe)
    with torch.inference_mode():
        expected = wrapper(torch.as_tensor(probe, dtype=torch.float32))
    if actor.output_kind is OutputKind.DETERMINISTIC:
        pairs = [('mean', mean, expected)]
    else:
        pairs = [('mean', mean, expected[0]), ('log_std', log_std, expected[1])]
    for label, got, want in pairs:
        error = float(np.max(np.abs(got - want.numpy())))
        if not error <= atol:
            raise ExportError(f'{actor.manifest.model_path}: exported {label} differs from the '
                              f'source by {error:.3g} (atol {atol})')
