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
The actor formats that run in PyTorch: TorchScript, ``state_dict`` and d3rlpy.

Only ``core.actor`` imports this module, and only when a manifest's chosen file has one of these
formats, so an actor certified in ONNX loads and runs without torch installed. It also holds the
modules the lab builds and exports (``GaussianMLP``, ``NormalizedModule``, ``d3rlpy_actor``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import pathlib
import tempfile
from typing import Any, Callable, Iterator, Mapping, Sequence
import warnings

import numpy as np
from poe_steer_ros.core.actor import ActorLoadError, Loaded, resolve_device
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ActorManifest, ArchitectureSpec, ModelFormat, StdKind
import torch

__all__ = ['cuda_available', 'D3rlpyActor', 'd3rlpy_actor', 'GaussianMLP', 'LOADERS',
           'NormalizedModule', 'quiet_torchscript']

_ACTIVATIONS: dict[str, Callable[[], torch.nn.Module]] = {
    'relu': torch.nn.ReLU, 'tanh': torch.nn.Tanh, 'elu': torch.nn.ELU, 'gelu': torch.nn.GELU,
    'silu': torch.nn.SiLU, 'leaky_relu': torch.nn.LeakyReLU}
# d3rlpy NormalPolicy users: SAC-style ones sample tanh(N(mu, std)); IQL-style ones sample
# N(tanh(mu), std) in action space (build_squashed_gaussian_distribution vs
# build_gaussian_distribution in d3rlpy 2.8.0).
_D3RLPY_SQUASHED = ('sac', 'cql', 'bear', 'cal_ql')
_D3RLPY_UNSQUASHED = ('iql', 'awac', 'crr', 'bc')


@contextlib.contextmanager
def quiet_torchscript() -> Iterator[None]:
    """
    Silence torch's deprecation notices for ``torch.jit`` inside the block.

    TorchScript is a deployment format the project promises (loadable from C++ without Python
    source); torch 2.13 marks ``torch.jit`` deprecated, but it works as documented.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', category=DeprecationWarning, message=r'.*torch\.jit')
        yield


class GaussianMLP(torch.nn.Module):
    """
    CORL-style MLP Gaussian actor: the network behind the ``state_dict`` format.

    ``layers`` is ``Linear -> activation`` per hidden size plus a last ``Linear`` that emits the
    mean, or ``[mean, log_std]`` for ``StdKind.HEAD``. ``forward`` returns ``(mean, log_std)``
    with log-std clamped, or the mean alone for ``StdKind.NONE``.
    """

    def __init__(self, obs_dim: int, action_dim: int, hidden_sizes: Sequence[int],
                 std: StdKind = StdKind.PARAMETER, activation: str = 'relu',
                 mean_activation: str = 'none', log_std_min: float = -20.0,
                 log_std_max: float = 2.0) -> None:
        super().__init__()
        layers: list[torch.nn.Module] = []
        width = obs_dim
        for hidden in hidden_sizes:
            layers += [torch.nn.Linear(width, hidden), _ACTIVATIONS[activation]()]
            width = hidden
        layers.append(torch.nn.Linear(width, action_dim * (2 if std is StdKind.HEAD else 1)))
        self.layers = torch.nn.Sequential(*layers)
        if std is StdKind.PARAMETER:
            self.log_std = torch.nn.Parameter(torch.zeros(action_dim))
        self.std_kind = std
        self.squash_mean = mean_activation == 'tanh'
        self.log_std_min = log_std_min
        self.log_std_max = log_std_max

    @classmethod
    def from_spec(cls, obs_dim: int, action_dim: int, spec: ArchitectureSpec) -> GaussianMLP:
        return cls(obs_dim, action_dim, spec.hidden_sizes, spec.std, spec.activation,
                   spec.mean_activation, spec.log_std_min, spec.log_std_max)

    def forward(self, obs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out: torch.Tensor = self.layers(obs)
        log_std: torch.Tensor | None
        if self.std_kind is StdKind.HEAD:
            mean, log_std = out.chunk(2, dim=-1)
        else:
            mean = out
            log_std = self.log_std.expand_as(mean) if self.std_kind is StdKind.PARAMETER else None
        if self.squash_mean:
            mean = torch.tanh(mean)
        if log_std is None:
            return mean
        return mean, log_std.clamp(self.log_std_min, self.log_std_max)


class NormalizedModule(torch.nn.Module):
    """Apply ``(obs - mean) / std`` before ``inner``, so normalisation travels with the model."""

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def __init__(self, inner: torch.nn.Module, mean: Sequence[float] | np.ndarray,
                 std: Sequence[float] | np.ndarray) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer('obs_mean', torch.as_tensor(np.asarray(mean), dtype=torch.float32))
        self.register_buffer('obs_std', torch.as_tensor(np.asarray(std), dtype=torch.float32))

    def forward(self, obs: torch.Tensor) -> Any:
        return self.inner((obs - self.obs_mean) / self.obs_std)


class _D3rlpyHead(torch.nn.Module):
    """d3rlpy policy -> (pre-squash mean, log_std per row), or the mean of a deterministic one."""

    def __init__(self, policy: torch.nn.Module, kind: OutputKind) -> None:
        super().__init__()
        self.policy = policy
        self.kind = kind

    def forward(self, obs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out = self.policy(obs)
        # For gaussian and deterministic kinds the pre-squash space is the action space.
        mean: torch.Tensor = out.mu if self.kind is OutputKind.TANH_GAUSSIAN else out.squashed_mu
        if self.kind is OutputKind.DETERMINISTIC:
            return mean
        return mean, out.logstd.expand_as(mean)


@dataclasses.dataclass(frozen=True)
class D3rlpyActor:
    """
    The frozen actor recovered from a d3rlpy algorithm.

    :ivar module: raw observation -> ``(mean, log_std)`` (or ``mean``), scaler included.
    :ivar obs_mean: observation shift of the recovered scaler (None without one);
        ``obs_std`` is its divisor. Both d3rlpy scalers (standard, min_max) are affine.
    :ivar action_low: command bounds of the recovered action scaler (None without one).
    """

    module: torch.nn.Module
    kind: OutputKind
    algorithm: str
    obs_dim: int
    action_dim: int
    obs_mean: np.ndarray | None
    obs_std: np.ndarray | None
    action_low: np.ndarray | None
    action_high: np.ndarray | None


def _d3rlpy_observation_affine(scaler: Any) -> tuple[np.ndarray, np.ndarray] | None:
    if scaler is None:
        return None
    kind = scaler.get_type()
    if kind == 'standard':
        return np.asarray(scaler.mean, float), np.asarray(scaler.std, float) + scaler.eps
    if kind == 'min_max':
        low, high = np.asarray(scaler.minimum, float), np.asarray(scaler.maximum, float)
        return (high + low) / 2.0, (high - low) / 2.0
    raise ActorLoadError(f'd3rlpy observation scaler {kind!r} is not supported '
                         "(supported: 'standard', 'min_max')")


def d3rlpy_actor(algo: Any) -> D3rlpyActor:
    """
    Recover mean, log-std and the scalers from a built d3rlpy 2.8 algorithm.

    :param algo: a d3rlpy ``QLearningAlgoBase`` with a built implementation.
    :raises ActorLoadError: for unsupported policies, algorithms or scalers.
    """
    from d3rlpy.models.torch.policies import DeterministicPolicy, NormalPolicy

    if algo.impl is None:
        raise ActorLoadError('d3rlpy algorithm has no model yet: fit it or call create_impl')
    algorithm = algo.config.get_type()
    policy = algo.impl.policy
    if isinstance(policy, DeterministicPolicy):
        kind = OutputKind.DETERMINISTIC
    elif isinstance(policy, NormalPolicy) and algorithm in _D3RLPY_SQUASHED:
        kind = OutputKind.TANH_GAUSSIAN
    elif isinstance(policy, NormalPolicy) and algorithm in _D3RLPY_UNSQUASHED:
        kind = OutputKind.GAUSSIAN
    else:
        raise ActorLoadError(
            f'd3rlpy {algorithm} ({type(policy).__name__}) is not supported: expected a '
            f'DeterministicPolicy or a NormalPolicy of {_D3RLPY_SQUASHED + _D3RLPY_UNSQUASHED}')
    shape = algo.impl.observation_shape
    if len(shape) != 1:
        raise ActorLoadError(f'd3rlpy observation shape {shape} is not a flat vector')
    module: torch.nn.Module = _D3rlpyHead(policy, kind)
    affine = _d3rlpy_observation_affine(algo.config.observation_scaler)
    if affine is not None:
        module = NormalizedModule(module, *affine)
    action_scaler = algo.config.action_scaler
    low = high = None
    if action_scaler is not None:
        if action_scaler.get_type() != 'min_max':
            raise ActorLoadError(f'd3rlpy action scaler {action_scaler.get_type()!r} is not '
                                 "supported (supported: 'min_max')")
        low = np.asarray(action_scaler.minimum, float)
        high = np.asarray(action_scaler.maximum, float)
    module.eval()
    return D3rlpyActor(module, kind, algorithm, int(shape[0]), int(algo.impl.action_size),
                       None if affine is None else affine[0],
                       None if affine is None else affine[1], low, high)


class _TorchBackend:
    """Run a torch module under ``inference_mode`` on one device."""

    def __init__(self, module: torch.nn.Module, device: str) -> None:
        self._module = module.eval().to(device)
        self._device = torch.device(device)
        self._on_cpu = device == 'cpu'

    def __call__(self, obs: np.ndarray) -> list[np.ndarray]:
        with torch.inference_mode():
            inputs = torch.from_numpy(obs)
            out = self._module(inputs if self._on_cpu else inputs.to(self._device))
        outputs = out if isinstance(out, (tuple, list)) else (out,)
        return [o.numpy() if self._on_cpu else o.cpu().numpy() for o in outputs]


def _torch_device(requested: str) -> str:
    return resolve_device(requested, cuda_available())


def _load_torchscript(manifest: ActorManifest, data: bytes, requested: str,
                      num_threads: int | None) -> Loaded:
    _set_threads(num_threads)
    device = _torch_device(requested)
    try:
        with quiet_torchscript():
            module = torch.jit.load(  # type: ignore[no-untyped-call]
                io.BytesIO(data), map_location=device)
    except RuntimeError as err:
        raise ActorLoadError(
            f'{manifest.model_path} is not a TorchScript archive ({err}); a plain PyTorch '
            'checkpoint needs format state_dict with an architecture') from None
    return Loaded(_TorchBackend(module, device), device)


def _load_state_dict(manifest: ActorManifest, data: bytes, requested: str,
                     num_threads: int | None) -> Loaded:
    _set_threads(num_threads)
    spec = manifest.architecture
    if spec is None:  # the manifest refuses state_dict without architecture; keep mypy honest
        raise ActorLoadError('architecture: required for format state_dict')
    try:
        with warnings.catch_warnings():  # the error below says what to do with TorchScript
            warnings.filterwarnings('ignore', message='.*looks like a TorchScript archive')
            checkpoint = torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)
    except Exception as err:  # torch.load raises pickle, zip and runtime errors alike
        raise ActorLoadError(f'{manifest.model_path} is not a weights-only PyTorch checkpoint '
                             f'({err}); a TorchScript archive needs format torchscript') from None
    if spec.state_dict_key is not None:
        if not isinstance(checkpoint, Mapping) or spec.state_dict_key not in checkpoint:
            raise ActorLoadError(f'architecture.state_dict_key: {spec.state_dict_key!r} is not '
                                 f'a key of the checkpoint {manifest.model_path}')
        checkpoint = checkpoint[spec.state_dict_key]
    if not isinstance(checkpoint, Mapping):
        raise ActorLoadError(f'{manifest.model_path}: expected a state_dict (mapping of tensors)')
    state_dict = _rename_keys(checkpoint, spec)
    first = state_dict.get('layers.0.weight')
    if isinstance(first, torch.Tensor) and first.ndim == 2 and first.shape[1] != manifest.obs_dim:
        raise ActorLoadError(
            f'{manifest.model_path}: model expects observations of size {first.shape[1]}, but '
            f'observation.fields lists {manifest.obs_dim}')
    module = GaussianMLP.from_spec(manifest.obs_dim, manifest.action_dim, spec)
    try:
        module.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:
        raise ActorLoadError(f'{manifest.model_path} does not fit the manifest architecture '
                             f'{spec.to_dict()}: {err}') from None
    device = _torch_device(requested)
    return Loaded(_TorchBackend(module, device), device, spec.std is StdKind.HEAD)


def _rename_keys(checkpoint: Mapping[str, Any], spec: ArchitectureSpec) -> dict[str, Any]:
    prefix = spec.layers_key + '.'
    renamed = {}
    for key, value in checkpoint.items():
        if key.startswith(prefix):
            key = 'layers.' + key[len(prefix):]
        elif key == spec.log_std_key:
            key = 'log_std'
        renamed[key] = value
    return renamed


def _load_d3rlpy(manifest: ActorManifest, data: bytes, requested: str,
                 num_threads: int | None) -> Loaded:
    _set_threads(num_threads)
    import d3rlpy

    device = _torch_device(requested)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            # d3rlpy reads a path: give it exactly the bytes whose hash matched.
            verified = pathlib.Path(scratch) / manifest.model_path.name
            verified.write_bytes(data)
            algo = d3rlpy.load_learnable(str(verified), device=f'{device}:0')
    except Exception as err:  # unpickling and d3rlpy config errors have many types
        raise ActorLoadError(f'{manifest.model_path} is not a d3rlpy learnable: {err}') from None
    recovered = d3rlpy_actor(algo)
    _check_d3rlpy_against_manifest(recovered, manifest)
    return Loaded(_TorchBackend(recovered.module, device), device)


def _check_d3rlpy_against_manifest(recovered: D3rlpyActor, manifest: ActorManifest) -> None:
    path = manifest.model_path
    if recovered.obs_dim != manifest.obs_dim:
        raise ActorLoadError(
            f'{path}: d3rlpy {recovered.algorithm} expects observations of size '
            f'{recovered.obs_dim}, but observation.fields lists {manifest.obs_dim}')
    if recovered.kind is not manifest.output.kind:
        raise ActorLoadError(f'output.kind: the manifest says {manifest.output.kind.value}, the '
                             f'd3rlpy {recovered.algorithm} policy is {recovered.kind.value}')
    if manifest.output.mean_in_command_units:
        raise ActorLoadError('output.mean_in_command_units: a d3rlpy policy emits normalised '
                             'actions; set it to false')
    norm = manifest.observation.normalization
    if recovered.obs_mean is not None and recovered.obs_std is not None and norm is not None:
        if not norm.applied_in_model:
            raise ActorLoadError(
                'observation.normalization.applied_in_model: the .d3 file carries its own '
                'observation scaler; applying the manifest stats too would normalise twice')
        if not (np.allclose(norm.mean, recovered.obs_mean, rtol=1e-5, atol=1e-6)
                and np.allclose(norm.std, recovered.obs_std, rtol=1e-5, atol=1e-6)):
            raise ActorLoadError('observation.normalization: mean/std differ from the '
                                 'observation scaler stored in the .d3 file')
    if recovered.action_low is not None and recovered.action_high is not None and not (
            np.allclose(manifest.action.low, recovered.action_low, rtol=1e-5, atol=1e-6)
            and np.allclose(manifest.action.high, recovered.action_high, rtol=1e-5, atol=1e-6)):
        raise ActorLoadError(
            f'action.low/high: {list(manifest.action.low)} / {list(manifest.action.high)} '
            f'differ from the d3rlpy action scaler {recovered.action_low.tolist()} / '
            f'{recovered.action_high.tolist()}')


def cuda_available() -> bool:
    """Whether torch can use a CUDA device."""
    return torch.cuda.is_available()


def _set_threads(num_threads: int | None) -> None:
    if num_threads is not None:
        torch.set_num_threads(num_threads)  # process-wide: torch has no per-module setting


LOADERS: dict[ModelFormat, Callable[[ActorManifest, bytes, str, int | None], Loaded]] = {
    ModelFormat.TORCHSCRIPT: _load_torchscript,
    ModelFormat.D3RLPY: _load_d3rlpy,
    ModelFormat.STATE_DICT: _load_state_dict,
}
"""The loaders of the torch formats, as ``core.actor`` calls them."""
