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
Support-aware confidence: how far a state lies from the actor's training data.

An actor is confident everywhere, most of all where it has never been. At export the lab
stores a compact model of where the actor was trained next to it (``<name>.support.npz``,
certified by the manifest's ``support`` entry with its SHA-256): a seeded subsample of the
training observations, normalised per field with the training mean and std, and a reference
distance. At run time:

* ``distance``: mean Euclidean distance, in normalised units, from the observation to its ``k``
  nearest stored observations (brute force over at most a few thousand rows; a compiled loop
  where numba is installed, ``core.per_state``).
* ``ratio = distance / reference``, where ``reference`` is the ``quantile`` (0.99) of the same
  distance for held-out training observations: ``ratio <= 1`` is as close as 99 % of the
  training data itself (on support).
* ``support = exp(-max(0, ratio - 1))`` in ``(0, 1]``: 1 on support, falling off outside.
* the actor's std is widened by ``scale = min(1 + gain * max(0, ratio - 1), max_scale)``.

``scale`` is monotone in the distance and 1 on support, so the PoE weight of the prior,
``w = alpha lam_G / (alpha lam_G + (1 - alpha) lam_A)`` with ``lam_A = 1 / (scale std)^2``,
rises off support and falls back as the state returns: precision weighting hands authority to
the prior where the actor has no data, and back to the actor where it has. ``gain = 0`` keeps
the score and changes nothing. Without a support file (data deleted) none of this exists: the
actor's own std drives the weighting, as for any actor.
"""

from __future__ import annotations

import dataclasses
import io
import math
import pathlib

import numpy as np
from poe_steer_ros.core import per_state

SUPPORT_KIND = 'knn'
SUPPORT_SUFFIX = '.support.npz'
DEFAULT_K = 8
DEFAULT_POINTS = 1024
DEFAULT_QUANTILE = 0.99
DEFAULT_MAX_SCALE = 20.0
"""Largest std widening: beyond it the prior has the state anyway (precision / 400)."""


class SupportError(ValueError):
    """A support model that cannot be built or used."""


@dataclasses.dataclass(frozen=True)
class SupportScore:
    """One state's support: the kNN distance, its ratio to the reference, score and scale."""

    distance: float
    ratio: float
    support: float
    std_scale: float


class SupportModel:
    """
    Stored training observations and the rule that turns a distance into a std widening.

    :ivar points: ``(M, D)`` normalised training observations.
    :ivar mean: per-field mean of the training observations (raw units).
    :ivar std: per-field std of the training observations (raw units, > 0).
    :ivar k: neighbours averaged.
    :ivar reference: the ``quantile`` of held-out training observations' distance.
    :ivar quantile: which quantile ``reference`` is.
    """

    def __init__(self, points: np.ndarray, mean: np.ndarray, std: np.ndarray, k: int,
                 reference: float, quantile: float) -> None:
        """Check and keep the parts; raise SupportError for inconsistent shapes or values."""
        self.points = np.ascontiguousarray(points, dtype=np.float64)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        dim = self.mean.shape[0] if self.mean.ndim == 1 else -1
        if self.points.ndim != 2 or self.points.shape[1] != dim or self.std.shape != (dim,):
            raise SupportError(f'points {self.points.shape}, mean {self.mean.shape} and std '
                               f'{self.std.shape} do not describe one observation size')
        if not (1 <= k <= self.points.shape[0]):
            raise SupportError(f'k must be in [1, {self.points.shape[0]}], got {k}')
        if not (np.all(self.std > 0.0) and np.all(np.isfinite(self.points))
                and math.isfinite(reference) and reference > 0.0 and 0.0 < quantile < 1.0):
            raise SupportError('std, reference and quantile must be positive and finite, '
                               'points finite')
        self.k = int(k)
        self.reference = float(reference)
        self.quantile = float(quantile)

    @property
    def obs_dim(self) -> int:
        """Return the observation size."""
        return int(self.mean.shape[0])

    @classmethod
    def fit(cls, observations: np.ndarray, points: int = DEFAULT_POINTS, k: int = DEFAULT_K,
            quantile: float = DEFAULT_QUANTILE, seed: int = 0) -> SupportModel:
        """
        Build the model from raw training observations.

        A seeded subsample of ``points`` rows is stored; the reference is calibrated on up to
        ``points`` other rows, so it measures how far new training-like states fall.

        :raises SupportError: with fewer than ``points + k`` rows to draw from, or bad shapes.
        """
        data = np.asarray(observations, dtype=np.float64)
        if data.ndim != 2 or data.shape[0] < 2 * k:
            raise SupportError(f'need a (N, D) array with N >= {2 * k}, got {data.shape}')
        mean, std = data.mean(axis=0), data.std(axis=0)
        std = np.where(std > 1e-6, std, 1.0)
        order = np.random.default_rng(seed).permutation(data.shape[0])
        stored = min(points, data.shape[0] // 2)
        kept = (data[order[:stored]] - mean) / std
        held_out = data[order[stored:2 * stored]]
        probe = cls(kept, mean, std, k, 1.0, quantile)
        distances = np.array([probe.distance(row) for row in held_out])
        return cls(kept, mean, std, k, float(np.quantile(distances, quantile)), quantile)

    def distance(self, obs: np.ndarray) -> float:
        """Return the mean normalised distance from a raw observation to its k nearest."""
        return float(per_state.KERNELS.knn_mean_distance(
            self.points, np.asarray(obs, dtype=np.float64), self.mean, self.std, self.k))

    def score(self, obs: np.ndarray, gain: float,
              max_scale: float = DEFAULT_MAX_SCALE) -> SupportScore:
        """Return the support of a raw observation and the std widening at ``gain``."""
        distance = self.distance(obs)
        ratio = distance / self.reference
        excess = max(ratio - 1.0, 0.0)
        scale = min(1.0 + gain * excess, max_scale)
        return SupportScore(distance, ratio, math.exp(-excess), scale)

    def to_bytes(self) -> bytes:
        """Serialise to ``.npz`` bytes (no pickles)."""
        buffer = io.BytesIO()
        np.savez(buffer, kind=np.array(SUPPORT_KIND), points=self.points.astype(np.float32),
                 mean=self.mean, std=self.std, k=np.array(self.k),
                 reference=np.array(self.reference), quantile=np.array(self.quantile))
        return buffer.getvalue()

    def save(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write the ``.npz`` file and return its path."""
        path = pathlib.Path(path)
        path.write_bytes(self.to_bytes())
        return path

    @classmethod
    def from_bytes(cls, data: bytes) -> SupportModel:
        """
        Read ``.npz`` bytes written by ``to_bytes`` (pickles refused).

        :raises SupportError: for another kind, missing arrays or inconsistent values.
        """
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                kind = str(arrays['kind'])
                if kind != SUPPORT_KIND:
                    raise SupportError(f'support kind {kind!r} is not {SUPPORT_KIND!r}')
                return cls(arrays['points'], arrays['mean'], arrays['std'], int(arrays['k']),
                           float(arrays['reference']), float(arrays['quantile']))
        except (KeyError, OSError, ValueError) as error:
            if isinstance(error, SupportError):
                raise
            raise SupportError(f'not a support model file: {error}') from None


class SupportAwareActor:
    """
    A frozen actor whose std is widened off its training support (implements ``Actor``).

    Single observations are scored and widened; ``last`` holds the latest score (None before
    the first call or after a batch). ``gain`` may change between calls (a runtime setting).
    """

    def __init__(self, actor: object, model: SupportModel, gain: float,
                 max_scale: float = DEFAULT_MAX_SCALE) -> None:
        """Wrap ``actor``; raise SupportError when the model's observation size differs."""
        if model.obs_dim != getattr(actor, 'obs_dim'):
            raise SupportError(f'support model has {model.obs_dim} observation fields, the '
                               f'actor {getattr(actor, "obs_dim")}')
        self.actor = actor
        self.model = model
        self.gain = float(gain)
        self.max_scale = float(max_scale)
        self.last: SupportScore | None = None

    def __getattr__(self, name: str) -> object:
        return getattr(self.actor, name)

    def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the actor's ``(mean, log_std)``, the log-std raised by ``log(scale)``."""
        mean, log_std = self.actor(obs)  # type: ignore[operator]
        if np.ndim(obs) != 1:
            self.last = None
            scales = [self.model.score(row, self.gain, self.max_scale).std_scale for row in obs]
            return mean, log_std + np.log(np.asarray(scales))[:, None]
        self.last = self.model.score(obs, self.gain, self.max_scale)
        return mean, log_std + math.log(self.last.std_scale)
