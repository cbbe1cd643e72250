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
Frozen-actor manifest: the YAML file that makes a model artifact describe itself.

A manifest sits next to its model file (by convention ``<model file name>.yaml``, e.g.
``actor.pt.yaml``) and is validated in full before anything is loaded. Schema (version 1;
unknown keys are refused, except inside ``provenance``)::

    manifest_version: 1            # optional, only 1 is understood
    format: torchscript            # torchscript | onnx | d3rlpy | state_dict
    file: actor.pt                 # model file, relative to the manifest's directory
    sha256: 3f7a...                # SHA-256 of the model file (64 hex digits); checked at load
    alternatives:                  # optional: the same network in other runtimes' formats
      - {format: onnx, file: actor.onnx, sha256: 9c1e...}
    output:
      kind: tanh_gaussian          # gaussian | tanh_gaussian | deterministic
      # deterministic only: assumed_std (required there; the pre-squash std composition assumes,
      #   a number or one per action) and mean_in_command_units (default false; true when the
      #   model emits commands, e.g. d3rlpy save_policy with an action scaler)
    observation:
      fields: [base.yaw_cos, base.yaw_sin, base.v, base.w, goal.dx_body, goal.dy_body]
      goal_joints: []              # joint order of a joint-position goal (goal.joint_error.*)
      scan_range_m: 2.0            # with scan.<i> fields only: range (m) that scan features
                                   #   divide by and cap at (core.scan)
      normalization:               # optional
        mean: [...]                # one per field; normalised obs = (obs - mean) / std
        std: [...]
        applied_in_model: true     # true: the artifact normalises (our exports, a d3rlpy scaler);
                                   #   the stats document it. false: the loader applies them.
    action:
      names: [linear_x, angular_z]
      low: [-0.5, -1.5]            # command units; a in [-1, 1] maps to offset + scale * a,
      high: [0.5, 1.5]             #   scale = (high - low) / 2, offset = (high + low) / 2
    support:                       # optional: where the actor was trained (core.support)
      kind: knn
      file: actor.support.npz      # relative to the manifest's directory
      sha256: 5d2b...              # checked at load like the model files
    architecture:                  # state_dict only (see ArchitectureSpec)
      hidden_sizes: [256, 256]
      std: parameter               # parameter | head | none
    provenance:                    # dataset, algorithm, objective, created required; free extras
      dataset: diffdrive-medium-v1
      algorithm: d3rlpy IQL
      objective: reach goals in the open arena
      created: '2026-11-25T10:00:00+00:00'
      seed: 0

``alternatives`` certify further files of the same network, exported together and checked
against the same source (``export_actor(..., single_manifest=True)``). Only TorchScript and
ONNX files can be alternatives of each other: both normalise inside the model and emit the same
outputs, so one manifest describes them all. Every listed file is hash-checked at load; the
loader runs one of them (see ``core.actor.choose_model_file``).

What the output kinds mean is fixed in ``core.interfaces.OutputKind``: the model's mean and
log-std live in pre-squash space; for ``gaussian`` and ``deterministic`` actors that space is the
normalised action itself. Every validation error names the offending key path, e.g.
``action.low: expected 2 values (one per action.names), got 3``.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
import json
import math
import pathlib
import re
from typing import Any, Mapping, Sequence

import numpy as np
from poe_steer_ros.core.interfaces import ACTION_BOUND_MAX, OutputKind
from poe_steer_ros.core.observation import ObservationError, ObservationLayout
import yaml

MANIFEST_VERSION = 1
MANIFEST_SUFFIX = '.yaml'


class ActorLoadError(ValueError):
    """A frozen actor that must not run: bad manifest, changed file, incompatible model."""


class ManifestError(ActorLoadError):
    """A manifest that does not follow the schema; the message names the key path."""


class ModelFormat(str, enum.Enum):
    """How the model file is stored."""

    TORCHSCRIPT = 'torchscript'
    ONNX = 'onnx'
    D3RLPY = 'd3rlpy'
    STATE_DICT = 'state_dict'


class StdKind(str, enum.Enum):
    """Where a state_dict actor's log-std comes from."""

    PARAMETER = 'parameter'
    """A learned vector that does not depend on the state (CORL IQL, rsl_rl, PPO)."""
    HEAD = 'head'
    """The last layer emits ``[mean, log_std]`` (SAC/CQL-style, state-dependent)."""
    NONE = 'none'
    """Mean only: a deterministic actor (TD3+BC); the manifest's assumed_std applies."""


INTERCHANGEABLE_FORMATS = (ModelFormat.TORCHSCRIPT, ModelFormat.ONNX)
"""Formats one manifest can certify together (primary file plus ``alternatives``)."""

ACTIVATIONS = ('relu', 'tanh', 'elu', 'gelu', 'silu', 'leaky_relu')


def _fail(path: str, message: str) -> ManifestError:
    return ManifestError(f'{path}: {message}')


def _section(data: Any, path: str, allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _fail(path, f'expected a mapping, got {type(data).__name__}')
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise _fail(path, f'unknown key(s) {unknown}; allowed: {list(allowed)}')
    return data


def _required(section: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in section or section[key] is None:
        raise _fail(f'{path}.{key}' if path else key, 'required key is missing')
    return section[key]


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f'expected a non-empty string, got {value!r}')
    return value


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, f'expected true or false, got {value!r}')
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(path, f'expected a finite number, got {value!r}')
    return float(value)


def _numbers(value: Any, path: str, length: int, what: str) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)):
        raise _fail(path, f'expected a list of {length} numbers, got {value!r}')
    if len(value) != length:
        raise _fail(path, f'expected {length} values ({what}), got {len(value)}')
    return tuple(_number(item, f'{path}[{i}]') for i, item in enumerate(value))


def _names(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise _fail(path, f'expected a list of names, got {value!r}')
    names = tuple(_text(item, f'{path}[{i}]') for i, item in enumerate(value))
    if len(set(names)) != len(names):
        raise _fail(path, f'names repeat: {list(names)}')
    return names


def _choice(value: Any, path: str, enum_type: type[enum.Enum]) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        raise _fail(path, f'{value!r} is not one of {[m.value for m in enum_type]}') from None


@dataclasses.dataclass(frozen=True)
class OutputSpec:
    """
    What the model's outputs mean.

    :ivar kind: gaussian, tanh_gaussian or deterministic (see ``OutputKind``).
    :ivar assumed_std: deterministic only: pre-squash std assumed for composition, one value or
        one per action. 0.1 trusts the actor's action to +-10 % of half the command range (1 sd).
    :ivar mean_in_command_units: deterministic only: the model's mean is a command, not a
        normalised action; the runtime maps it back with the action bounds.
    """

    kind: OutputKind
    assumed_std: tuple[float, ...] | None = None
    mean_in_command_units: bool = False

    @classmethod
    def from_dict(cls, data: Any, action_dim: int) -> OutputSpec:
        section = _section(data, 'output', ('kind', 'assumed_std', 'mean_in_command_units'))
        kind = _choice(_required(section, 'kind', 'output'), 'output.kind', OutputKind)
        deterministic = kind is OutputKind.DETERMINISTIC
        raw_std = section.get('assumed_std')
        if deterministic and raw_std is None:
            raise _fail('output.assumed_std', 'required for a deterministic actor (its std is '
                        'not learned; state the pre-squash std composition should assume)')
        if not deterministic and raw_std is not None:
            raise _fail('output.assumed_std',
                        f'only used by deterministic actors, not {kind.value}')
        in_command = _flag(section.get('mean_in_command_units', False),
                           'output.mean_in_command_units')
        if in_command and not deterministic:
            raise _fail('output.mean_in_command_units', 'only deterministic actors may emit '
                        'commands; a Gaussian must be given in pre-squash space')
        assumed_std = None
        if raw_std is not None:
            values = (raw_std,) * action_dim if not isinstance(raw_std, (list, tuple)) else raw_std
            assumed_std = _numbers(values, 'output.assumed_std', action_dim,
                                   'one per action.names, or a single number')
            if min(assumed_std) <= 0.0:
                raise _fail('output.assumed_std', f'must be positive, got {list(assumed_std)}')
        return cls(kind, assumed_std, in_command)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {'kind': self.kind.value}
        if self.assumed_std is not None:
            uniform = len(set(self.assumed_std)) == 1
            data['assumed_std'] = self.assumed_std[0] if uniform else list(self.assumed_std)
        if self.mean_in_command_units:
            data['mean_in_command_units'] = True
        return data


@dataclasses.dataclass(frozen=True)
class Normalization:
    """Observation normalisation ``(obs - mean) / std`` and who applies it."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    applied_in_model: bool

    @classmethod
    def from_dict(cls, data: Any, obs_dim: int) -> Normalization:
        path = 'observation.normalization'
        section = _section(data, path, ('mean', 'std', 'applied_in_model'))
        what = 'one per observation.fields'
        mean = _numbers(_required(section, 'mean', path), f'{path}.mean', obs_dim, what)
        std = _numbers(_required(section, 'std', path), f'{path}.std', obs_dim, what)
        if min(std) <= 0.0:
            raise _fail(f'{path}.std', 'every std must be positive')
        applied = _flag(_required(section, 'applied_in_model', path), f'{path}.applied_in_model')
        return cls(mean, std, applied)

    def to_dict(self) -> dict[str, Any]:
        return {'mean': list(self.mean), 'std': list(self.std),
                'applied_in_model': self.applied_in_model}


@dataclasses.dataclass(frozen=True)
class ObservationSpec:
    """Named observation features, the goal's joint order and the normalisation."""

    fields: tuple[str, ...]
    goal_joints: tuple[str, ...] = ()
    normalization: Normalization | None = None
    scan_range_m: float | None = None
    """Range (m) scan features are divided by and capped at; set iff there are scan fields."""

    @classmethod
    def from_dict(cls, data: Any) -> ObservationSpec:
        section = _section(data, 'observation',
                           ('fields', 'goal_joints', 'normalization', 'scan_range_m'))
        fields = _names(_required(section, 'fields', 'observation'), 'observation.fields')
        goal_joints = _names(section.get('goal_joints') or [], 'observation.goal_joints')
        try:
            layout = ObservationLayout(fields, goal_joints)
        except ObservationError as err:
            raise ManifestError(f'observation.{err}') from None
        raw_norm = section.get('normalization')
        normalization = (None if raw_norm is None
                         else Normalization.from_dict(raw_norm, len(fields)))
        raw_range = section.get('scan_range_m')
        if (raw_range is None) != (layout.scan_bins == 0):
            raise _fail('observation.scan_range_m', 'required with scan.<i> fields, and only '
                        'with them')
        scan_range_m = (None if raw_range is None
                        else _number(raw_range, 'observation.scan_range_m'))
        if scan_range_m is not None and scan_range_m <= 0.0:
            raise _fail('observation.scan_range_m', f'must be positive, got {scan_range_m}')
        return cls(fields, goal_joints, normalization, scan_range_m)

    def layout(self) -> ObservationLayout:
        """Return the layout that builds this observation from a robot state and a goal."""
        return ObservationLayout(self.fields, self.goal_joints)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {'fields': list(self.fields)}
        if self.goal_joints:
            data['goal_joints'] = list(self.goal_joints)
        if self.normalization is not None:
            data['normalization'] = self.normalization.to_dict()
        if self.scan_range_m is not None:
            data['scan_range_m'] = self.scan_range_m
        return data


@dataclasses.dataclass(frozen=True)
class ActionSpec:
    """Action names and command bounds; normalised ``a`` maps to ``offset + scale * a``."""

    names: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    @classmethod
    def from_dict(cls, data: Any) -> ActionSpec:
        section = _section(data, 'action', ('names', 'low', 'high'))
        names = _names(_required(section, 'names', 'action'), 'action.names')
        if not names:
            raise _fail('action.names', 'an actor needs at least one action')
        what = 'one per action.names'
        low = _numbers(_required(section, 'low', 'action'), 'action.low', len(names), what)
        high = _numbers(_required(section, 'high', 'action'), 'action.high', len(names), what)
        inverted = [name for name, lo, hi in zip(names, low, high) if not lo < hi]
        if inverted:
            raise _fail('action', f'low must be below high for {inverted}')
        huge = [name for name, lo, hi in zip(names, low, high)
                if max(abs(lo), abs(hi)) > ACTION_BOUND_MAX]
        if huge:
            raise _fail('action', f'bounds beyond +-{ACTION_BOUND_MAX:g} command units for '
                        f'{huge}: no actuator needs them, and they overflow the arithmetic')
        return cls(names, low, high)

    @property
    def scale(self) -> np.ndarray:
        scale: np.ndarray = (np.asarray(self.high) - np.asarray(self.low)) / 2.0
        return scale

    @property
    def offset(self) -> np.ndarray:
        offset: np.ndarray = (np.asarray(self.high) + np.asarray(self.low)) / 2.0
        return offset

    def to_dict(self) -> dict[str, Any]:
        return {'names': list(self.names), 'low': list(self.low), 'high': list(self.high)}


@dataclasses.dataclass(frozen=True)
class ArchitectureSpec:
    """
    MLP description of a ``state_dict`` actor (CORL-style Gaussian actor).

    The network is ``Linear -> activation`` per hidden size, then a last ``Linear`` emitting the
    mean (``std: parameter`` or ``none``) or ``[mean, log_std]`` (``std: head``). An optional
    ``tanh`` squashes the mean; log-std is clamped to ``[log_std_min, log_std_max]``. State-dict
    keys are ``<layers_key>.<i>.weight|bias`` (Sequential indices) and ``<log_std_key>``.
    A CORL IQL checkpoint loads with ``state_dict_key: actor``, ``layers_key: net.net``,
    ``mean_activation: tanh``, ``std: parameter``.
    """

    hidden_sizes: tuple[int, ...]
    std: StdKind
    activation: str = 'relu'
    mean_activation: str = 'none'
    log_std_min: float = -20.0
    log_std_max: float = 2.0
    state_dict_key: str | None = None
    layers_key: str = 'layers'
    log_std_key: str = 'log_std'

    @classmethod
    def from_dict(cls, data: Any) -> ArchitectureSpec:
        path = 'architecture'
        keys = [field.name for field in dataclasses.fields(cls)]
        section = _section(data, path, keys)
        sizes = _required(section, 'hidden_sizes', path)
        if not isinstance(sizes, (list, tuple)) or not all(
                isinstance(size, int) and not isinstance(size, bool) and size > 0
                for size in sizes):
            raise _fail(f'{path}.hidden_sizes',
                        f'expected a list of positive integers, got {sizes}')
        std = _choice(_required(section, 'std', path), f'{path}.std', StdKind)
        activation = section.get('activation', cls.activation)
        if activation not in ACTIVATIONS:
            raise _fail(f'{path}.activation', f'{activation!r} is not one of {list(ACTIVATIONS)}')
        mean_activation = section.get('mean_activation', cls.mean_activation)
        if mean_activation not in ('none', 'tanh'):
            raise _fail(f'{path}.mean_activation', f"{mean_activation!r} is not 'none' or 'tanh'")
        low = _number(section.get('log_std_min', cls.log_std_min), f'{path}.log_std_min')
        high = _number(section.get('log_std_max', cls.log_std_max), f'{path}.log_std_max')
        if not low < high:
            raise _fail(f'{path}.log_std_min', f'must be below log_std_max ({low} >= {high})')
        state_dict_key = section.get('state_dict_key')
        if state_dict_key is not None:
            state_dict_key = _text(state_dict_key, f'{path}.state_dict_key')
        return cls(
            tuple(sizes), std, activation, mean_activation, low, high, state_dict_key,
            _text(section.get('layers_key', cls.layers_key), f'{path}.layers_key'),
            _text(section.get('log_std_key', cls.log_std_key), f'{path}.log_std_key'))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data['hidden_sizes'] = list(self.hidden_sizes)
        data['std'] = self.std.value
        if self.state_dict_key is None:
            del data['state_dict_key']
        return data


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Where the actor came from: what certification refers to."""

    dataset: str
    algorithm: str
    objective: str
    created: str
    """ISO 8601 date or date-time."""
    seed: int | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Provenance:
        if not isinstance(data, Mapping):
            raise _fail('provenance', f'expected a mapping, got {type(data).__name__}')
        texts = {key: _text(_required(data, key, 'provenance'), f'provenance.{key}')
                 for key in ('dataset', 'algorithm', 'objective')}
        created = _required(data, 'created', 'provenance')
        if isinstance(created, (datetime.date, datetime.datetime)):
            created = created.isoformat()
        try:
            datetime.datetime.fromisoformat(_text(created, 'provenance.created'))
        except ValueError:
            raise _fail('provenance.created', f'{created!r} is not an ISO 8601 date') from None
        seed = data.get('seed')
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise _fail('provenance.seed', f'expected an integer or null, got {seed!r}')
        known = {'dataset', 'algorithm', 'objective', 'created', 'seed'}
        extra = {key: value for key, value in data.items() if key not in known}
        return cls(created=created, seed=seed, extra=extra, **texts)

    @classmethod
    def now(cls, dataset: str, algorithm: str, objective: str, seed: int | None = None,
            **extra: Any) -> Provenance:
        """Provenance stamped with the current UTC time."""
        created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
        return cls(dataset, algorithm, objective, created, seed, extra)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {'dataset': self.dataset, 'algorithm': self.algorithm,
                                'objective': self.objective, 'created': self.created}
        if self.seed is not None:
            data['seed'] = self.seed
        data.update(self.extra)
        return data


_YAML_LOADER: Any = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it (pip's and apt's do): the pure-Python one takes
about 40 ms to read a manifest, a tenth of the node's start."""
_SHA256 = re.compile(r'[0-9a-f]{64}')
_TOP_KEYS = ('manifest_version', 'format', 'file', 'sha256', 'alternatives', 'output',
             'observation', 'action', 'architecture', 'support', 'provenance')
_FILE_KEYS = ('format', 'file', 'sha256')
SUPPORT_KINDS = ('knn',)


def _read_yaml(text: str) -> Any:
    """Return what ``yaml.safe_load`` returns for ``text``, through libyaml where present."""
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)


@dataclasses.dataclass(frozen=True)
class ModelFile:
    """One certified model file: its format, path relative to the manifest and SHA-256."""

    format: ModelFormat  # noqa: A003 (the YAML key is 'format')
    file: str
    sha256: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str) -> ModelFile:
        """Validate ``format``, ``file`` and ``sha256`` of ``data`` (key paths under ``path``)."""
        prefix = f'{path}.' if path else ''
        model_format = _choice(_required(data, 'format', path), f'{prefix}format', ModelFormat)
        file = _text(_required(data, 'file', path), f'{prefix}file')
        sha256 = _text(_required(data, 'sha256', path), f'{prefix}sha256').lower()
        if not _SHA256.fullmatch(sha256):
            raise _fail(f'{prefix}sha256', f'expected 64 hexadecimal digits, got {sha256!r}')
        return cls(model_format, file, sha256)

    def to_dict(self) -> dict[str, Any]:
        return {'format': self.format.value, 'file': self.file, 'sha256': self.sha256}


@dataclasses.dataclass(frozen=True)
class SupportSpec:
    """The certified file that models where the actor was trained (``core.support``)."""

    kind: str
    file: str
    sha256: str

    @classmethod
    def from_dict(cls, data: Any) -> SupportSpec:
        section = _section(data, 'support', ('kind', 'file', 'sha256'))
        kind = _text(_required(section, 'kind', 'support'), 'support.kind')
        if kind not in SUPPORT_KINDS:
            raise _fail('support.kind', f'{kind!r} is not one of {list(SUPPORT_KINDS)}')
        sha256 = _text(_required(section, 'sha256', 'support'), 'support.sha256').lower()
        if not _SHA256.fullmatch(sha256):
            raise _fail('support.sha256', f'expected 64 hexadecimal digits, got {sha256!r}')
        return cls(kind, _text(_required(section, 'file', 'support'), 'support.file'), sha256)

    def to_dict(self) -> dict[str, Any]:
        return {'kind': self.kind, 'file': self.file, 'sha256': self.sha256}


def _alternatives(value: Any, primary: ModelFile) -> tuple[ModelFile, ...]:
    """Validate ``alternatives``: TorchScript/ONNX files, one per format, none repeated."""
    if not isinstance(value, (list, tuple)):
        raise _fail('alternatives', f'expected a list of files, got {value!r}')
    alternatives = tuple(
        ModelFile.from_dict(_section(item, f'alternatives[{i}]', _FILE_KEYS), f'alternatives[{i}]')
        for i, item in enumerate(value))
    files = (primary, *alternatives) if alternatives else ()
    for i, model_file in enumerate(files):
        prefix = '' if i == 0 else f'alternatives[{i - 1}].'
        if model_file.format not in INTERCHANGEABLE_FORMATS:
            raise _fail(f'{prefix}format', f'{model_file.format.value} cannot share a manifest '
                        f'with other files; only {[f.value for f in INTERCHANGEABLE_FORMATS]} can')
        if any(other.format is model_file.format for other in files[:i]):
            raise _fail(f'{prefix}format',
                        f'{model_file.format.value} is listed twice; one file per format')
        if any(other.file == model_file.file for other in files[:i]):
            raise _fail(f'{prefix}file', f'{model_file.file!r} is listed twice')
    return alternatives


@dataclasses.dataclass(frozen=True)
class ActorManifest:
    """
    A validated actor manifest.

    :ivar directory: where the manifest lives; ``file`` is resolved against it.
    """

    format: ModelFormat  # noqa: A003 (the YAML key is 'format')
    file: str
    sha256: str
    output: OutputSpec
    observation: ObservationSpec
    action: ActionSpec
    provenance: Provenance
    architecture: ArchitectureSpec | None = None
    directory: pathlib.Path = pathlib.Path('.')
    alternatives: tuple[ModelFile, ...] = ()
    """The same network in other formats (TorchScript/ONNX only), each with its hash."""
    support: SupportSpec | None = None
    """Where the actor was trained (optional; absent when the data are gone)."""

    @property
    def support_path(self) -> pathlib.Path | None:
        """Return the support model file's path (None without one)."""
        return None if self.support is None else self.directory / self.support.file

    @property
    def model_path(self) -> pathlib.Path:
        return self.directory / self.file

    @property
    def model_files(self) -> tuple[ModelFile, ...]:
        """Every certified file: the primary one (``format``, ``file``) first."""
        return (ModelFile(self.format, self.file, self.sha256), *self.alternatives)

    def with_primary(self, model_file: ModelFile) -> ActorManifest:
        """
        Return this manifest with ``model_file`` as its primary file, the others as alternatives.

        :raises ValueError: if ``model_file`` is not one of ``model_files``.
        """
        files = self.model_files
        if model_file not in files:
            raise ValueError(f'{model_file.file} is not certified by this manifest')
        return dataclasses.replace(
            self, format=model_file.format, file=model_file.file, sha256=model_file.sha256,
            alternatives=tuple(other for other in files if other != model_file))

    @property
    def obs_dim(self) -> int:
        return len(self.observation.fields)

    @property
    def action_dim(self) -> int:
        return len(self.action.names)

    @classmethod
    def from_dict(cls, data: Any, directory: pathlib.Path = pathlib.Path('.')) -> ActorManifest:
        """
        Validate a parsed manifest.

        :param data: the YAML document as Python objects.
        :param directory: directory the model ``file`` is relative to.
        :raises ManifestError: naming the key path of the first problem found.
        """
        top = _section(data, 'manifest', _TOP_KEYS)
        version = top.get('manifest_version', MANIFEST_VERSION)
        if version != MANIFEST_VERSION:
            raise _fail('manifest_version', f'{version!r} is not understood (expected 1)')
        primary = ModelFile.from_dict(top, '')
        model_format = primary.format
        alternatives = _alternatives(top.get('alternatives', []), primary)
        action = ActionSpec.from_dict(_required(top, 'action', ''))
        output = OutputSpec.from_dict(_required(top, 'output', ''), len(action.names))
        observation = ObservationSpec.from_dict(_required(top, 'observation', ''))
        raw_architecture = top.get('architecture')
        architecture = None
        if model_format is ModelFormat.STATE_DICT:
            architecture = ArchitectureSpec.from_dict(_required(top, 'architecture', ''))
            deterministic = output.kind is OutputKind.DETERMINISTIC
            if deterministic != (architecture.std is StdKind.NONE):
                raise _fail('architecture.std', f'{architecture.std.value!r} does not fit '
                            f'output.kind {output.kind.value!r}: std none <=> deterministic')
            if observation.normalization and observation.normalization.applied_in_model:
                raise _fail('observation.normalization.applied_in_model', 'a state_dict holds '
                            'weights only; set false so the loader applies the stats')
        elif raw_architecture is not None:
            raise _fail('architecture',
                        f'only used by format state_dict, not {model_format.value}')
        provenance = Provenance.from_dict(_required(top, 'provenance', ''))
        support = None if top.get('support') is None else SupportSpec.from_dict(top['support'])
        return cls(model_format, primary.file, primary.sha256, output, observation, action,
                   provenance, architecture, pathlib.Path(directory), alternatives, support)

    @classmethod
    def load(cls, path: str | pathlib.Path) -> ActorManifest:
        """
        Read and validate a manifest file.

        :raises ManifestError: if the file is missing, is not YAML, or breaks the schema.
        """
        path = pathlib.Path(path)
        try:
            data = _read_yaml(path.read_text(encoding='utf-8'))
        except FileNotFoundError:
            raise ManifestError(f'manifest {path} does not exist') from None
        except yaml.YAMLError as err:
            raise ManifestError(f'manifest {path} is not valid YAML: {err}') from None
        try:
            return cls.from_dict(data, path.parent)
        except ManifestError as err:
            raise ManifestError(f'{path}: {err}') from None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            'manifest_version': MANIFEST_VERSION, 'format': self.format.value, 'file': self.file,
            'sha256': self.sha256}
        if self.alternatives:
            data['alternatives'] = [model_file.to_dict() for model_file in self.alternatives]
        data.update({'output': self.output.to_dict(), 'observation': self.observation.to_dict(),
                     'action': self.action.to_dict()})
        if self.architecture is not None:
            data['architecture'] = self.architecture.to_dict()
        if self.support is not None:
            data['support'] = self.support.to_dict()
        data['provenance'] = self.provenance.to_dict()
        return data

    @property
    def bundle_sha256(self) -> str:
        """
        Return the SHA-256 of the certified bundle: this manifest together with its files.

        It hashes a canonical serialisation (JSON, sorted keys, no whitespace) of everything the
        manifest says, with the model files as a list sorted by format: each entry's SHA-256
        stands for the file's content, which the loader checks. It does not depend on YAML
        formatting, key order, comments or which certified file runs. A changed bound, action
        name, observation field, output kind or normalisation flag changes it.
        """
        document = self.to_dict()
        for key in ('format', 'file', 'sha256', 'alternatives'):
            document.pop(key, None)
        document['model_files'] = sorted((model_file.to_dict() for model_file in self.model_files),
                                         key=lambda entry: entry['format'])
        text = json.dumps(document, sort_keys=True, separators=(',', ':'), ensure_ascii=True,
                          allow_nan=False, default=str)
        return hashlib.sha256(text.encode('ascii')).hexdigest()

    def to_yaml(self) -> str:
        text: str = yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)
        return text

    def save(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write the manifest as YAML and return its path."""
        path = pathlib.Path(path)
        path.write_text(self.to_yaml(), encoding='utf-8')
        return path


def manifest_path_for(model_path: str | pathlib.Path) -> pathlib.Path:
    """Return the conventional manifest path of a model file: ``<model file name>.yaml``."""
    model_path = pathlib.Path(model_path)
    return model_path.with_name(model_path.name + MANIFEST_SUFFIX)


def find_manifest(model_or_manifest: str | pathlib.Path) -> pathlib.Path:
    """
    Resolve a model file or a manifest to the manifest path.

    A ``.yaml``/``.yml`` path is taken as the manifest. For a model file, ``<model>.yaml`` is
    used when it exists, else the one sibling YAML whose ``file`` names the model.

    :raises ManifestError: if no manifest, or more than one, names the model.
    """
    path = pathlib.Path(model_or_manifest)
    if path.suffix in ('.yaml', '.yml'):
        return path
    if not path.exists():
        raise ManifestError(f'{path} does not exist')
    conventional = manifest_path_for(path)
    if conventional.exists():
        return conventional
    candidates = []
    for sibling in sorted(path.parent.glob('*.y*ml')):
        try:
            data = _read_yaml(sibling.read_text(encoding='utf-8'))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        named = data.get('file') if isinstance(data, Mapping) else None
        if isinstance(named, str) and (path.parent / named).resolve() == path.resolve():
            candidates.append(sibling)
    if len(candidates) != 1:
        found = [str(c) for c in candidates] or 'none'
        raise ManifestError(
            f'{path}: expected exactly one manifest naming this model next to it (e.g. '
            f'{conventional.name}), found {found}; see docs/actor-manifest.md')
    return candidates[0]
