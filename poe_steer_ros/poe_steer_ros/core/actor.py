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
Frozen-actor runtime: load a certified model and map raw observations to (mean, log_std).

``load_actor`` reads the manifest (``core.manifest``), refuses a model file whose SHA-256 differs
from the manifest's, loads it with the loader of its format, and checks it before the first
tick: a probe batch around the normalisation mean must run, give one output per action and the
number of outputs the output kind implies, and stay finite. Warm-up passes follow, with their
latency reported. Formats:

* ``torchscript``: ``module(obs) -> (mean, log_std)``, or ``mean`` for a deterministic actor.
* ``onnx`` (onnxruntime; CUDA provider when present): outputs in the same order.
* ``d3rlpy``: a ``.d3`` learnable; mean, log-std and the observation/action scalers are
  recovered from its policy network (d3rlpy applies scalers outside the policy module).
* ``state_dict``: PyTorch weights of the MLP the manifest's ``architecture`` describes.

ONNX runs in onnxruntime; the other formats run in PyTorch (``core.torch_actor``), which is
imported only when a file of theirs is chosen (or asked whether it has CUDA), so torch is an
optional dependency: an actor certified in ONNX runs without it.

A manifest may certify the same network in both TorchScript and ONNX (``alternatives``). Every
listed file is hash-checked, then ``choose_model_file`` picks the one to run: a format whose
runtime can use CUDA when a GPU is wanted and present, else ONNX on the CPU, where onnxruntime
runs a small MLP in about half the time of the TorchScript interpreter (docs/benchmarks.md).

Deterministic actors (any format) return the manifest's ``assumed_std``. ``log_std`` may be
state-independent (shape ``(action_dim,)`` or ``(1, action_dim)``); it is broadcast per row.
Loading a ``.d3`` file unpickles it: only the bytes whose hash matched are ever unpickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import pathlib
import time
from typing import Any, Callable, Sequence
import warnings

import numpy as np
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import (ActorLoadError, ActorManifest, ModelFile, ModelFormat,
                                         SupportSpec)
from poe_steer_ros.core.observation import ObservationLayout
from poe_steer_ros.core.support import SupportError, SupportModel

__all__ = ['ActorLoadError', 'Backend', 'choose_model_file', 'CPU_FORMAT_PREFERENCE', 'DEVICES',
           'DeviceFallbackWarning', 'FORMAT_REQUESTS', 'FrozenActor', 'LatencyStats', 'Loaded',
           'load_actor', 'load_support', 'measure_latency', 'PROBE_BATCH', 'read_model_file',
           'resolve_device',
           'sha256_of']

_LOG = logging.getLogger(__name__)

DEVICES = ('auto', 'cpu', 'cuda')
"""Device requests: auto (CUDA when the runtime can use it, else CPU), cpu, cuda."""
FORMAT_REQUESTS = ('auto', *(model_format.value for model_format in ModelFormat))
"""Format requests: auto (``choose_model_file``'s rule) or one format the manifest certifies."""
CPU_FORMAT_PREFERENCE = (ModelFormat.ONNX, ModelFormat.TORCHSCRIPT)
"""
On the CPU, the first of these a manifest certifies runs: batch-1 forward of the benchmark MLP
11.5 us with onnxruntime against 21.6 us with TorchScript, 0.63 against 1.61 ms at batch 1024.
"""
PROBE_BATCH = 8
"""Rows of the load-time probe batch (spread around the normalisation mean)."""
_STATE_DEPENDENCE_ATOL = 1e-6


class DeviceFallbackWarning(RuntimeWarning):
    """CUDA was requested but is not available; the actor runs on the CPU."""


def sha256_of(data_or_path: bytes | str | pathlib.Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes (or of the bytes given)."""
    if isinstance(data_or_path, bytes):
        return hashlib.sha256(data_or_path).hexdigest()
    with open(data_or_path, 'rb') as stream:
        return hashlib.file_digest(stream, 'sha256').hexdigest()


def resolve_device(requested: str, cuda_available: bool) -> str:
    """
    Pick the device a model runs on.

    :param requested: ``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``.
    :param cuda_available: whether the format's runtime can use a CUDA device.
    :returns: ``'cuda'`` or ``'cpu'``.
    :raises ValueError: for any other ``requested``.
    """
    _check_device(requested)
    if requested == 'cpu':
        return 'cpu'
    if cuda_available:
        return 'cuda'
    if requested == 'cuda':
        warnings.warn('device: cuda requested but no CUDA device is available; using cpu',
                      DeviceFallbackWarning, stacklevel=2)
    return 'cpu'


def _check_device(device: str) -> None:
    if device not in DEVICES:
        raise ValueError(f'device: {device!r} is not one of {list(DEVICES)}')


def _runtime_has_cuda(model_format: ModelFormat) -> bool:
    if model_format is ModelFormat.ONNX:
        import onnxruntime

        return 'CUDAExecutionProvider' in onnxruntime.get_available_providers()
    try:
        from poe_steer_ros.core import torch_actor
    except ImportError:  # torch is optional: without it no torch format can use CUDA
        return False
    return torch_actor.cuda_available()


def choose_model_file(manifest: ActorManifest, device: str = 'auto',
                      model_format: str = 'auto') -> ModelFile:
    """
    Pick which of the manifest's certified files runs.

    A requested format must be certified. Otherwise, unless the CPU is requested, the first
    file (primary first) whose runtime can use CUDA runs on the GPU; on the CPU the first
    format of ``CPU_FORMAT_PREFERENCE`` the manifest certifies runs, else the primary file.

    :param manifest: a validated manifest.
    :param device: ``auto``, ``cpu`` or ``cuda``.
    :param model_format: ``auto`` or one of the formats (``FORMAT_REQUESTS``).
    :raises ActorLoadError: if the requested format is not certified by the manifest.
    :raises ValueError: for a request outside ``DEVICES`` or ``FORMAT_REQUESTS``.
    """
    _check_device(device)
    if model_format not in FORMAT_REQUESTS:
        raise ValueError(f'format: {model_format!r} is not one of {list(FORMAT_REQUESTS)}')
    files = manifest.model_files
    if model_format != 'auto':
        for model_file in files:
            if model_file.format.value == model_format:
                return model_file
        raise ActorLoadError(f'format {model_format} requested, but the manifest certifies '
                             f'{[model_file.format.value for model_file in files]} only')
    if len(files) == 1:
        return files[0]
    if device != 'cpu':
        for model_file in files:
            if _runtime_has_cuda(model_file.format):
                return model_file
    for preferred in CPU_FORMAT_PREFERENCE:
        for model_file in files:
            if model_file.format is preferred:
                return model_file
    return files[0]


def read_model_file(manifest: ActorManifest,
                    model_file: ModelFile | SupportSpec) -> tuple[bytes, str]:
    """
    Read one of the files a manifest certifies; return its bytes and their SHA-256.

    :raises ActorLoadError: if the file does not exist.
    """
    path = manifest.directory / model_file.file
    if not path.is_file():
        raise ActorLoadError(f'file {model_file.file!r} does not exist (looked for {path})')
    data = path.read_bytes()
    return data, sha256_of(data)


def _verified_bytes(manifest: ActorManifest, model_file: ModelFile | SupportSpec) -> bytes:
    """Read a certified file, refusing a missing one or one whose SHA-256 changed."""
    data, actual = read_model_file(manifest, model_file)
    if actual != model_file.sha256:
        raise ActorLoadError(
            f'{manifest.directory / model_file.file}: SHA-256 {actual} does not match the '
            f'manifest sha256 {model_file.sha256}; the model changed since it was certified, '
            'refusing to load')
    return data


@dataclasses.dataclass(frozen=True)
class LatencyStats:
    """Wall-clock latency of repeated forward passes (seconds)."""

    count: int
    first_s: float
    median_s: float
    p99_s: float
    max_s: float

    @classmethod
    def from_samples(cls, samples: Sequence[float]) -> LatencyStats:
        if not samples:
            raise ValueError('samples: need at least one latency sample')
        values = np.asarray(samples, dtype=np.float64)
        return cls(len(values), float(values[0]), float(np.median(values)),
                   float(np.percentile(values, 99)), float(values.max()))

    def __str__(self) -> str:
        return (f'{self.count} passes: first {self.first_s * 1e3:.3f} ms, median '
                f'{self.median_s * 1e6:.1f} us, p99 {self.p99_s * 1e6:.1f} us, '
                f'max {self.max_s * 1e3:.3f} ms')


def measure_latency(actor: Callable[[np.ndarray], Any], obs: np.ndarray,
                    passes: int) -> LatencyStats:
    """Time ``passes`` calls of ``actor(obs)`` with ``time.perf_counter``."""
    samples = []
    for _ in range(passes):
        start = time.perf_counter()
        actor(obs)
        samples.append(time.perf_counter() - start)
    return LatencyStats.from_samples(samples)


Backend = Callable[[np.ndarray], Sequence[np.ndarray]]
"""float32 ``(N, obs_dim)`` model input -> the model's outputs as arrays, in order."""


class _OnnxBackend:
    """Run an onnxruntime session; models exported with a fixed batch of 1 are run per row."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._input_name = session.get_inputs()[0].name
        self._per_row = session.get_inputs()[0].shape[0] == 1

    def __call__(self, obs: np.ndarray) -> Sequence[np.ndarray]:
        if self._per_row and obs.shape[0] != 1:
            rows = [self._session.run(None, {self._input_name: obs[i:i + 1]})
                    for i in range(obs.shape[0])]
            return [np.concatenate(parts) for parts in zip(*rows)]
        outputs: list[np.ndarray] = self._session.run(None, {self._input_name: obs})
        return outputs


@dataclasses.dataclass(frozen=True)
class Loaded:
    """What a format's loader hands back: the backend that runs the model, and where."""

    backend: Backend
    device: str
    std_depends_on_state: bool | None = None
    """None: measure it on the probe batch."""


def _load_onnx(manifest: ActorManifest, data: bytes, requested: str,
               num_threads: int | None) -> Loaded:
    import onnxruntime

    device = resolve_device(
        requested, 'CUDAExecutionProvider' in onnxruntime.get_available_providers())
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = num_threads or 0
    options.inter_op_num_threads = 1
    providers = (['CUDAExecutionProvider'] if device == 'cuda' else []) + ['CPUExecutionProvider']
    try:
        session = onnxruntime.InferenceSession(data, options, providers=providers)
    except Exception as err:  # onnxruntime raises its own pybind exception types
        if _uses_external_data(data):
            raise ActorLoadError(
                f'{manifest.model_path} keeps weights in external data files, which its sha256 '
                'does not cover; re-export it as one file (torch.onnx.export(..., '
                'external_data=False))') from None
        raise ActorLoadError(
            f'{manifest.model_path} is not a loadable ONNX model: {err}') from None
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ActorLoadError(f'{manifest.model_path}: ONNX model takes {len(inputs)} inputs, '
                             'expected one (the observation batch)')
    shape, dtype = inputs[0].shape, inputs[0].type
    if len(shape) != 2 or dtype != 'tensor(float)':
        raise ActorLoadError(f'{manifest.model_path}: ONNX input {inputs[0].name!r} is {dtype} '
                             f'{shape}, expected float32 (batch, {manifest.obs_dim})')
    if isinstance(shape[1], int) and shape[1] != manifest.obs_dim:
        raise ActorLoadError(
            f'{manifest.model_path}: model expects observations of size {shape[1]}, but '
            f'observation.fields lists {manifest.obs_dim}')
    return Loaded(_OnnxBackend(session), device)


def _uses_external_data(data: bytes) -> bool:
    """Tell why a session failed when onnx (a lab package, not the runtime's) is installed."""
    try:
        import onnx
    except ImportError:
        return False
    try:
        model = onnx.load_model_from_string(data)  # bytes never resolve external files
    except Exception:  # not parseable as ONNX at all: the caller reports the original error
        return False
    return any(tensor.data_location == onnx.TensorProto.EXTERNAL
               for tensor in model.graph.initializer)


def _loader(model_format: ModelFormat) -> Callable[[ActorManifest, bytes, str, int | None],
                                                   Loaded]:
    """Return the format's loader; torch is imported only for the formats that run in it."""
    if model_format is ModelFormat.ONNX:
        return _load_onnx
    try:
        from poe_steer_ros.core import torch_actor
    except ImportError as err:
        raise ActorLoadError(f'format {model_format.value} runs in PyTorch, which is not '
                             f'installed ({err}); install torch (README.md) or run the '
                             'ONNX file of the actor') from None
    return torch_actor.LOADERS[model_format]


class FrozenActor:
    """
    A loaded, checked, warmed-up frozen actor (implements ``core.interfaces.Actor``).

    :ivar obs_dim: observation size (``len(observation.fields)``).
    :ivar action_dim: number of actions.
    :ivar output_kind: what mean/log-std mean (``OutputKind``).
    :ivar action_low: command lower bounds (float64, from the manifest).
    :ivar action_high: command upper bounds.
    :ivar manifest: the validated manifest, with the file that runs as its primary one.
    :ivar sha256: the verified hash of the file that runs.
    :ivar device: device the model runs on (``'cpu'`` or ``'cuda'``).
    :ivar std_depends_on_state: False if log-std is the same for every observation.
    :ivar warmup_latency_s: latency of the warm-up passes (None if there were none).
    :ivar observation_layout: builds raw observations from a robot state and a goal.
    :ivar output_shapes: shapes of the model's raw outputs for the probe batch.
    :ivar support: where the actor was trained (``core.support``), None without a support file.
    """

    def __init__(self, manifest: ActorManifest, loaded: Loaded, sha256: str) -> None:
        """Wrap a loaded backend; ``load_actor`` is the way to make one."""
        self.manifest = manifest
        self.sha256 = sha256
        self.device = loaded.device
        self.obs_dim = manifest.obs_dim
        self.action_dim = manifest.action_dim
        self.output_kind = manifest.output.kind
        self.action_low = np.asarray(manifest.action.low, dtype=np.float64)
        self.action_high = np.asarray(manifest.action.high, dtype=np.float64)
        self.observation_layout: ObservationLayout = manifest.observation.layout()
        self.std_depends_on_state = bool(loaded.std_depends_on_state)
        self.warmup_latency_s: LatencyStats | None = None
        self.output_shapes: tuple[tuple[int, ...], ...] = ()
        self.support: SupportModel | None = None
        self._backend = loaded.backend
        norm = manifest.observation.normalization
        self._loader_normalizes = norm is not None and not norm.applied_in_model
        self._obs_mean = np.asarray(norm.mean if norm else 0.0, dtype=np.float32)
        self._obs_std = np.asarray(norm.std if norm else 1.0, dtype=np.float32)
        assumed = manifest.output.assumed_std
        self._assumed_log_std = None if assumed is None else np.log(np.asarray(assumed))
        self._mean_in_command_units = manifest.output.mean_in_command_units
        self._action_offset = (self.action_high + self.action_low) / 2.0
        self._action_scale = (self.action_high - self.action_low) / 2.0

    def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """
        Map raw observations to the pre-squash Gaussian.

        :param obs: raw (un-normalised) observations, ``(obs_dim,)`` or ``(N, obs_dim)``.
        :returns: float64 ``(mean, log_std)``, each ``(action_dim,)`` or ``(N, action_dim)``.
        :raises ValueError: if ``obs`` has the wrong shape.
        """
        batch = np.array(obs, dtype=np.float32, ndmin=2)
        if batch.ndim != 2 or batch.shape[1] != self.obs_dim:
            raise ValueError(f'obs: expected shape ({self.obs_dim},) or (N, {self.obs_dim}), '
                             f'got {np.shape(obs)}')
        if self._loader_normalizes:
            batch = (batch - self._obs_mean) / self._obs_std
        outputs = self._backend(batch)
        mean = outputs[0].astype(np.float64)
        if self._assumed_log_std is None:
            log_std = outputs[1]
            if log_std.shape != mean.shape:  # a state-independent std: one row for all
                log_std = np.broadcast_to(log_std, mean.shape)
            log_std = log_std.astype(np.float64)
        else:
            if self._mean_in_command_units:
                mean = (mean - self._action_offset) / self._action_scale
            log_std = np.broadcast_to(self._assumed_log_std, mean.shape).copy()
        if np.ndim(obs) == 1:
            return mean[0], log_std[0]
        return mean, log_std

    def probe_observations(self, rows: int = PROBE_BATCH) -> np.ndarray:
        """Raw observations spread within one std of the normalisation mean (seeded)."""
        spread = np.random.default_rng(0).uniform(-1.0, 1.0, size=(rows, self.obs_dim))
        return (self._obs_mean + self._obs_std * spread).astype(np.float64)

    def _check_model(self, std_depends_on_state: bool | None) -> None:
        """Run the probe batch and refuse a model whose outputs do not fit the manifest."""
        path = self.manifest.model_path
        probe = self.probe_observations()
        model_input = probe.astype(np.float32)
        if self._loader_normalizes:
            model_input = (model_input - self._obs_mean) / self._obs_std
        try:
            outputs = [np.asarray(o) for o in self._backend(model_input)]
        except Exception as err:  # torch and onnxruntime raise many error types
            raise ActorLoadError(
                f'{path} cannot run on observations of size {self.obs_dim} (observation.fields '
                f'lists {self.obs_dim}): {type(err).__name__}: {err}') from None
        self.output_shapes = tuple(o.shape for o in outputs)
        expected = 1 if self.output_kind is OutputKind.DETERMINISTIC else 2
        if len(outputs) != expected:
            raise ActorLoadError(
                f'output.kind: {self.output_kind.value} expects {expected} model output(s) '
                f'({"mean" if expected == 1 else "mean, log_std"}), {path} returns '
                f'{len(outputs)}')
        rows_by_actions = (PROBE_BATCH, self.action_dim)
        if outputs[0].shape != rows_by_actions:
            raise ActorLoadError(
                f'{path}: mean has shape {outputs[0].shape} for a batch of {PROBE_BATCH}, '
                f'expected {rows_by_actions} (action.names lists {self.action_dim})')
        if expected == 2 and outputs[1].shape not in (
                rows_by_actions, (1, self.action_dim), (self.action_dim,)):
            raise ActorLoadError(
                f'{path}: log_std has shape {outputs[1].shape}, expected {rows_by_actions}, '
                f'(1, {self.action_dim}) or ({self.action_dim},)')
        if not all(np.all(np.isfinite(o)) for o in outputs):
            raise ActorLoadError(f'{path} emits non-finite values for observations near the '
                                 'normalisation mean')
        if expected == 1:
            self.std_depends_on_state = False
        elif std_depends_on_state is not None:
            self.std_depends_on_state = std_depends_on_state
        else:
            log_std = np.broadcast_to(outputs[1], rows_by_actions)
            spread = np.ptp(log_std, axis=0).max()
            self.std_depends_on_state = bool(spread > _STATE_DEPENDENCE_ATOL)

    def _warm_up(self, passes: int) -> None:
        if passes > 0:
            self.warmup_latency_s = measure_latency(self, self.probe_observations(1)[0], passes)


def load_support(manifest: ActorManifest) -> SupportModel | None:
    """
    Load the certified support model of an actor (None when the manifest lists none).

    :raises ActorLoadError: for a missing file, a changed SHA-256, or a file that is not a
        support model of this actor's observation size.
    """
    if manifest.support is None:
        return None
    data = _verified_bytes(manifest, manifest.support)
    try:
        model = SupportModel.from_bytes(data)
    except SupportError as error:
        raise ActorLoadError(f'support.file {manifest.support.file!r}: {error}') from None
    if model.obs_dim != manifest.obs_dim:
        raise ActorLoadError(f'support.file {manifest.support.file!r}: models {model.obs_dim} '
                             f'observation fields, observation.fields lists {manifest.obs_dim}')
    return model


def load_actor(manifest_path: str | pathlib.Path, device: str = 'auto',
               num_threads: int | None = 1, warmup_passes: int = 10,
               model_format: str = 'auto') -> FrozenActor:
    """
    Load a frozen actor from its manifest, refusing anything not certified or not fitting.

    :param manifest_path: the actor's YAML manifest.
    :param device: ``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda`` (falls back
        to CPU with a ``DeviceFallbackWarning`` when absent).
    :param num_threads: CPU threads for inference (torch's setting is process-wide); None keeps
        the runtime's default.
    :param warmup_passes: single-observation forward passes timed after loading.
    :param model_format: ``auto`` (``choose_model_file``) or a format the manifest certifies.
    :returns: the ready actor; its ``manifest`` names the file that runs as the primary one.
    :raises ActorLoadError: invalid manifest (``ManifestError``), a missing model file or a
        SHA-256 mismatch in any certified file (naming both hashes), a format the manifest does
        not certify, a model that does not fit the manifest.
    :raises ValueError: for a bad ``device``, ``num_threads``, ``warmup_passes`` or
        ``model_format``.
    """
    _check_device(device)
    if num_threads is not None and num_threads < 1:
        raise ValueError(f'num_threads: must be at least 1 (or None), got {num_threads}')
    if warmup_passes < 0:
        raise ValueError(f'warmup_passes: must be >= 0, got {warmup_passes}')
    certified = ActorManifest.load(manifest_path)
    data = {model_file: _verified_bytes(certified, model_file)
            for model_file in certified.model_files}
    chosen = choose_model_file(certified, device, model_format)
    manifest = certified.with_primary(chosen)
    model_path = manifest.model_path
    loaded = _loader(manifest.format)(manifest, data[chosen], device, num_threads)
    actor = FrozenActor(manifest, loaded, chosen.sha256)
    actor.support = load_support(certified)
    actor._check_model(loaded.std_depends_on_state)
    actor._warm_up(warmup_passes)
    _LOG.info('actor %s: %s %s on %s (requested %s), std %s the state, warm-up %s',
              model_path, manifest.format.value, actor.output_kind.value, actor.device, device,
              'depends on' if actor.std_depends_on_state else 'does not depend on',
              actor.warmup_latency_s)
    return actor
