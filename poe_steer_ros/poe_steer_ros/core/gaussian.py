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
Gaussians in named numeric spaces and the maps between those spaces.

A Gaussian always says which space it lives in (``Space`` from ``core.interfaces``):
pre-squash ``u``, normalised action ``a`` or command ``c``. Composition happens in pre-squash
space only; priors stated in command or action space are mapped there first by
``to_pre_squash``. The Gaussian types, ``kl_divergence`` and ``squash`` work on numpy arrays
and torch tensors alike (the array's own library does the arithmetic), single ``(d,)`` or
batched ``(N, d)``; the space maps (``ActionScale``, ``to_pre_squash``) are numpy, like the
priors they serve.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any

import numpy as np

from poe_steer_ros.core import numerics, per_state
from poe_steer_ros.core.interfaces import ACTION_BOUND_MAX, OutputKind, Space

Array = Any
"""A numpy array or a torch tensor; all arrays of one call come from the same library."""

SPACE_CODES = {Space.PRE_SQUASH: numerics.PRE_SQUASH_SPACE,
               Space.ACTION: numerics.ACTION_SPACE, Space.COMMAND: numerics.COMMAND_SPACE}
"""The kernels' code of each space."""

ATANH_CLIP_EPS = 0.05
"""
How far inside ``(-1, 1)`` a normalised prior mean is clipped before ``atanh``.

``atanh`` is infinite at the bounds, so a prior whose mean sits on a command bound (a saturated
attractor far from its goal) needs a clip. With ``1 - eps = 0.95`` the mapped mean stays at
``|u| <= atanh(0.95) = 1.83``, within the range tanh-Gaussian actors typically use for their
own pre-squash means, and the delta-method std there is inflated by ``1 / (1 - 0.95**2) = 10``.
Each tenfold smaller eps would push the mean about 1.15 further out and inflate the std about
tenfold again, so a saturated prior would carry almost no precision and barely steer (at
eps = 0.001 the inflation is 500). The price: the prior alone (prior_only) asks for at most
95 % of the command range; the actor, and compositions it takes part in, can still use it all.
"""


def array_namespace(array: Any) -> Any:
    """
    Return the library that owns ``array``: numpy or torch.

    torch is looked up among the loaded modules, so numpy-only callers never import it.

    :raises TypeError: if ``array`` is neither a numpy array (or scalar) nor a torch tensor.
    """
    if isinstance(array, (np.ndarray, np.generic, float, int)):
        return np
    torch = sys.modules.get('torch')
    if torch is not None and isinstance(array, torch.Tensor):
        return torch
    raise TypeError(f'expected a numpy array or a torch tensor, got {type(array).__name__}')


class GaussianDomainError(ValueError):
    """A Gaussian with a non-finite mean or a std that is not finite and > 0."""


def check_gaussians(*gaussians: DiagGaussian) -> None:
    """
    Refuse Gaussians with non-finite means or stds that are not finite and > 0.

    :raises GaussianDomainError: naming the first offending Gaussian (in argument order).
    """
    for index, gaussian in enumerate(gaussians):
        xp = array_namespace(gaussian.std)
        std, mean = gaussian.std, gaussian.mean
        if not bool(xp.isfinite(mean).all()):
            raise GaussianDomainError(f'Gaussian {index + 1}: means must be finite, got {mean}')
        if not bool((xp.isfinite(std) & (std > 0.0)).all()):
            raise GaussianDomainError(f'Gaussian {index + 1}: stds must be finite and > 0, '
                                      f'got {std}')


def sum_last(array: Array) -> Any:
    """
    Sum over the last axis; one numpy vector gives a Python float.

    Summing a short vector's ``tolist()`` takes a quarter of ``ndarray.sum``'s time, which
    counts in the per-tick path.
    """
    if type(array) is np.ndarray and array.ndim == 1:
        return sum(array.tolist())
    return array.sum(-1)


@dataclasses.dataclass(frozen=True, slots=True)
class DiagGaussian:
    """
    A Gaussian with diagonal covariance over the last axis, in a named space.

    ``mean`` and ``std`` share one shape, ``(d,)`` or ``(N, d)``; both are numpy arrays or
    both torch tensors. Pre-squash Gaussians are what actors emit as (mean, log_std).
    """

    mean: Array
    std: Array
    space: Space = Space.PRE_SQUASH

    def __post_init__(self) -> None:
        """Check that mean and std describe the same dimensions."""
        if self.mean.shape != self.std.shape:
            raise ValueError(
                f'mean and std must have one shape, got mean {tuple(self.mean.shape)} '
                f'and std {tuple(self.std.shape)}')

    @classmethod
    def from_log_std(
            cls, mean: Array, log_std: Array, space: Space = Space.PRE_SQUASH) -> DiagGaussian:
        """Build from an actor-style (mean, log_std) pair."""
        return cls(mean, array_namespace(log_std).exp(log_std), space)

    @property
    def dim(self) -> int:
        """Return the number of action dimensions (the last axis)."""
        return int(self.mean.shape[-1])

    @property
    def log_std(self) -> Array:
        """Natural log of the standard deviation."""
        return array_namespace(self.std).log(self.std)

    @property
    def var(self) -> Array:
        """Variance per dimension."""
        return self.std * self.std

    def log_prob(self, x: Array) -> Array:
        """Return the log density at ``x`` (shape ``(..., d)``), summed over the last axis."""
        xp = array_namespace(self.std)
        z = (x - self.mean) / self.std
        return -(0.5 * z * z + xp.log(self.std) + 0.5 * math.log(2.0 * math.pi)).sum(-1)


def kl_divergence(p: DiagGaussian, q: DiagGaussian) -> Array:
    """
    Return KL(p || q) in nats, summed over the last axis.

    ``0.5 * sum(var_p / var_q - 1 - log(var_p / var_q) + (mu_p - mu_q)**2 / var_q)``.

    :raises ValueError: if ``p`` and ``q`` live in different spaces, or for non-finite means or
        stds that are not finite and > 0.
    """
    if p.space is not q.space:
        raise ValueError(f'p lives in {p.space.value} space but q in {q.space.value} space')
    check_gaussians(p, q)
    xp = array_namespace(p.std)
    var_ratio = p.var / q.var
    gap = p.mean - q.mean
    return 0.5 * (var_ratio - 1.0 - xp.log(var_ratio) + gap * gap / q.var).sum(-1)


@dataclasses.dataclass(frozen=True)
class FullGaussian:
    """
    A Gaussian with full covariance: ``mean`` ``(..., d)``, ``cov`` ``(..., d, d)``.

    Used where action dimensions are correlated (a learned prior with a full covariance head);
    ``from_diag`` embeds the diagonal case.
    """

    mean: Array
    cov: Array
    space: Space = Space.PRE_SQUASH

    def __post_init__(self) -> None:
        """Check that cov is a stack of square matrices matching mean."""
        expected = tuple(self.mean.shape) + (self.mean.shape[-1],)
        if tuple(self.cov.shape) != expected:
            raise ValueError(
                f'cov must have shape {expected} for mean {tuple(self.mean.shape)}, '
                f'got {tuple(self.cov.shape)}')

    @classmethod
    def from_diag(cls, gaussian: DiagGaussian) -> FullGaussian:
        """Embed a diagonal Gaussian (same mean, covariance diag(std**2))."""
        var = gaussian.var
        eye = array_namespace(var).eye(gaussian.dim, dtype=var.dtype)
        return cls(gaussian.mean, var[..., :, None] * eye, gaussian.space)

    @property
    def precision(self) -> Array:
        """Inverse covariance."""
        return array_namespace(self.cov).linalg.inv(self.cov)

    def log_prob(self, x: Array) -> Array:
        """Return the log density at ``x`` (shape ``(..., d)``)."""
        xp = array_namespace(self.cov)
        gap = x - self.mean
        solved = xp.linalg.solve(self.cov, gap[..., None])[..., 0]
        _, log_det = xp.linalg.slogdet(self.cov)
        dim = self.mean.shape[-1]
        return -0.5 * ((gap * solved).sum(-1) + log_det + dim * math.log(2.0 * math.pi))


@dataclasses.dataclass(frozen=True)
class ActionScale:
    """
    Affine map between normalised action ``a`` in [-1, 1] and command ``c`` in physical units.

    ``c = offset + scale * a`` with ``scale = (high - low) / 2`` and ``offset = (high + low) / 2``
    from the actor's action bounds, as ``core.interfaces`` defines. Both are computed as
    ``high / 2 -+ low / 2``, which cannot overflow for finite bounds; bounds beyond
    ``ACTION_BOUND_MAX`` in magnitude are refused (nothing physical needs them, and their
    products with a squashed action would lose every digit of the command).
    """

    low: np.ndarray
    high: np.ndarray
    scale: np.ndarray = dataclasses.field(init=False)
    offset: np.ndarray = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        """Validate the bounds and precompute scale and offset."""
        low = np.array(self.low, dtype=np.float64)
        high = np.array(self.high, dtype=np.float64)
        if low.ndim != 1 or low.shape != high.shape:
            raise ValueError(
                f'low and high must be 1-D of one length, got {low.shape} and {high.shape}')
        if not (np.isfinite(low).all() and np.isfinite(high).all() and (high > low).all()
                and np.abs(low).max() <= ACTION_BOUND_MAX
                and np.abs(high).max() <= ACTION_BOUND_MAX):
            raise ValueError(f'action bounds must be finite, within +-{ACTION_BOUND_MAX:g}, with '
                             f'high > low, got low={low}, high={high}')
        for name, value in (('low', low), ('high', high), ('scale', high / 2.0 - low / 2.0),
                            ('offset', high / 2.0 + low / 2.0)):
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    def to_command(self, action: np.ndarray) -> np.ndarray:
        """Map a normalised action to a command."""
        command: np.ndarray = self.offset + self.scale * action
        return command

    def to_action(self, command: np.ndarray) -> np.ndarray:
        """Map a command to a normalised action (not clipped)."""
        action: np.ndarray = (command - self.offset) / self.scale
        return action


def squash(pre_squash: Array, output_kind: OutputKind) -> Array:
    """
    Map a pre-squash vector to the normalised action in [-1, 1].

    ``tanh`` for tanh-Gaussian actors; a clip for Gaussian and deterministic actors, whose
    pre-squash space already is the normalised action.
    """
    xp = array_namespace(pre_squash)
    if output_kind is OutputKind.TANH_GAUSSIAN:
        return xp.tanh(pre_squash)
    return xp.clip(pre_squash, -1.0, 1.0)


def squash_to_command(pre_squash: np.ndarray, output_kind: OutputKind,
                      scale: ActionScale) -> tuple[np.ndarray, bool]:
    """
    Return ``scale.to_command(squash(pre_squash, output_kind))`` for one numpy vector.

    The per-tick path: one kernel call (``core.per_state``) instead of three array operations,
    plus whether ``pre_squash`` was finite (a non-finite one gives a non-finite command).

    :raises ValueError: if ``pre_squash`` does not have one entry per action dimension.
    """
    command = np.empty(scale.scale.size)
    finite = per_state.KERNELS.squash_to_command(
        np.asarray(pre_squash, dtype=np.float64), output_kind is OutputKind.TANH_GAUSSIAN,
        scale.scale, scale.offset, command)
    return command, finite


def to_pre_squash(gaussian: DiagGaussian, scale: ActionScale, output_kind: OutputKind,
                  eps: float = ATANH_CLIP_EPS, *,
                  command_bounds: tuple[np.ndarray, np.ndarray] | None = None,
                  std_bounds: tuple[float, float] | None = None) -> DiagGaussian:
    """
    Express a Gaussian stated in command or action space in the actor's pre-squash space.

    Command -> action is affine and exact (std divides by ``scale``). For tanh-Gaussian actors
    the action mean is clipped to ``[-1 + eps, 1 - eps]`` (see ``ATANH_CLIP_EPS``) and mapped
    through ``atanh``; the std uses the delta method, i.e. the derivative of ``atanh`` at the
    clipped point: ``std_u = std_a / (1 - a**2)``. For Gaussian and deterministic actors the
    action mean is clipped to [-1, 1], the range their actions are clipped to anyway.
    One kernel call (``core.per_state``): the Steerer maps one prior per tick.

    :param gaussian: a diagonal numpy Gaussian, ``(d,)`` or ``(N, d)``, in any space
        (pre-squash ones are returned unchanged unless ``std_bounds`` clips them).
    :param scale: the actor's action bounds.
    :param output_kind: what the actor's output means.
    :param eps: clip margin for ``atanh``; must lie in (0, 1).
    :param command_bounds: (low, high) a command-space mean is clipped to first (the envelope).
    :param std_bounds: (low, high) the mapped std is clipped to last.
    :return: The Gaussian in pre-squash space, as float64 numpy arrays.
    :raises GaussianDomainError: for a non-finite mean or a std that is not finite and > 0.
    """
    if gaussian.space is Space.PRE_SQUASH and std_bounds is None:
        check_gaussians(gaussian)
        return gaussian
    if not 0.0 < eps < 1.0:
        raise ValueError(f'eps must lie in (0, 1), got {eps}')
    if command_bounds is None:
        unbounded = np.full(scale.scale.size, math.inf)
        command_bounds = (-unbounded, unbounded)
    mean = np.asarray(gaussian.mean, dtype=np.float64)
    std = np.asarray(gaussian.std, dtype=np.float64)
    mapped = (np.empty(mean.shape), np.empty(mean.shape))
    flat = (mean, std, *mapped) if mean.ndim == 1 else (
        mean.reshape(-1), std.reshape(-1), *(array.reshape(-1) for array in mapped))
    valid = per_state.KERNELS.prior_to_pre_squash(
        flat[0], flat[1], SPACE_CODES[gaussian.space], *command_bounds, scale.scale,
        scale.offset, output_kind is OutputKind.TANH_GAUSSIAN, eps,
        *(std_bounds or (0.0, math.inf)), flat[2], flat[3])
    if not valid:
        raise GaussianDomainError(f'prior means must be finite and stds finite and > 0, got '
                                  f'mean {gaussian.mean}, std {gaussian.std}')
    return DiagGaussian(*mapped, Space.PRE_SQUASH)
