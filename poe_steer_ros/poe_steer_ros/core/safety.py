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
The safety envelope: read-only limits every command passes through.

Built once at startup from read-only parameters; its arrays are copied and made read-only, and
no runtime setting can widen it. ``alpha_max`` bounds the prior's effective weight in every
dimension, for every rule and every source of the prior.

What the Steerer sends passes ``SafetyEnvelope.clamp`` last, relative to the last command it
actually sent and when it sent it; ``StateFreshness`` says when state may steer at all.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Mapping, Sequence

import numpy as np
from poe_steer_ros.core import per_state


class Fallback(str, enum.Enum):
    """What is sent when composition yields non-finite values."""

    HOLD = 'hold'
    """The last command sent (the zero command before the first one)."""
    ZERO = 'zero'
    """Zero, clipped into the bounds (for velocity commands: stop)."""
    ACTOR_ONLY = 'actor_only'
    """The frozen actor's mean alone; hold if the actor's own output is non-finite."""


@dataclasses.dataclass(frozen=True)
class SafetyEnvelope:
    """Command bounds, per-dimension rate limits, the cap on the prior weight and the fallback."""

    command_low: np.ndarray
    """Lower command bound per dimension (command units)."""
    command_high: np.ndarray
    """Upper command bound per dimension (command units)."""
    max_rate_per_s: np.ndarray
    """
    Largest change per second per dimension (command units / s); ``inf`` leaves a dimension
    unlimited. The limit scales with the time since the last command.
    """
    alpha_max: float = 1.0
    """
    No configuration or prior can give the prior a larger effective weight ``w`` in any
    dimension (``mu = mu_A + w (mu_G - mu_A)``): the weight is capped (for kl, ``beta`` at
    ``alpha_max / (1 - alpha_max)``) and a sharper prior's std raised; 1 allows prior_only.
    """
    fallback: Fallback = Fallback.HOLD
    """What to send when composition yields non-finite values."""
    hold_max_s: float = math.inf
    """Longest time the safe command ``hold`` keeps the last command; zero after it, s."""
    external_prior_max_s: float = math.inf
    """Longest validity of an external prior from its receipt, s (a later expiry is cut)."""

    def __post_init__(self) -> None:
        """Copy the arrays read-only and check the limits; raise ValueError naming the field."""
        low = _frozen_vector('command_low', self.command_low)
        high = _frozen_vector('command_high', self.command_high)
        rate = _frozen_vector('max_rate_per_s', self.max_rate_per_s)
        if high.shape != low.shape or rate.shape != low.shape:
            raise ValueError(
                f'command_low, command_high and max_rate_per_s need one length, got '
                f'{low.size}, {high.size} and {rate.size}')
        if not (np.isfinite(low).all() and np.isfinite(high).all() and (low <= high).all()):
            raise ValueError(f'command_low and command_high must be finite with low <= high, '
                             f'got {low} and {high}')
        if np.isnan(rate).any() or (rate <= 0.0).any():
            raise ValueError(f'max_rate_per_s must be > 0 (inf for no limit), got {rate}')
        if not 0.0 <= self.alpha_max <= 1.0:
            raise ValueError(f'alpha_max must lie in [0, 1], got {self.alpha_max}')
        for name in ('hold_max_s', 'external_prior_max_s'):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f'{name} must be >= 0 s (inf for no limit), got '
                                 f'{getattr(self, name)}')
        try:
            fallback = Fallback(self.fallback)
        except ValueError:
            raise ValueError(f'fallback must be one of {[f.value for f in Fallback]}, '
                             f'got {self.fallback!r}') from None
        for name, value in (('command_low', low), ('command_high', high),
                            ('max_rate_per_s', rate), ('alpha_max', float(self.alpha_max)),
                            ('fallback', fallback), ('hold_max_s', float(self.hold_max_s)),
                            ('external_prior_max_s', float(self.external_prior_max_s))):
            object.__setattr__(self, name, value)

    @property
    def dim(self) -> int:
        """Return the number of command dimensions."""
        return int(self.command_low.size)

    def zero_command(self) -> np.ndarray:
        """Return zero clipped into the bounds (a new array)."""
        zero: np.ndarray = np.minimum(np.maximum(0.0, self.command_low), self.command_high)
        return zero

    def clamp(self, command: np.ndarray, previous: np.ndarray | None,
              dt_s: float) -> tuple[np.ndarray, bool]:
        """
        Clip ``command`` to the bounds and, given the previous command, to the rate limits.

        :param command: the desired command (command units), ``(d,)`` or a batch ``(N, d)``.
        :param previous: the last command sent (same shape), or None before the first (no rate
            limit then).
        :param dt_s: seconds since ``previous`` was sent; negative and NaN values count as zero
            (``numerics.MIN_DT_S``: the command holds).
        :return: The command inside the envelope (a new array) and whether anything was changed.
        :raises ValueError: if ``command`` and ``previous`` do not end in one entry per
            dimension.
        """
        command = np.asarray(command, dtype=np.float64)
        rate_limited = previous is not None
        previous = np.asarray(previous, dtype=np.float64) if rate_limited else command
        if command.shape[-1:] != (self.dim,) or previous.shape != command.shape:
            raise ValueError(f'command and previous command need shape (..., {self.dim}), got '
                             f'{command.shape} and {previous.shape}')
        clamped = np.empty(command.shape)
        flat = (command, previous, clamped) if command.ndim == 1 else (
            command.reshape(-1), previous.reshape(-1), clamped.reshape(-1))
        changed = per_state.KERNELS.clamp(flat[0], self.command_low, self.command_high,
                                          self.max_rate_per_s, flat[1], dt_s, rate_limited,
                                          flat[2])
        return clamped, changed


@dataclasses.dataclass(frozen=True)
class StateFreshness:
    """
    When a state may steer: by its arrival on the node clock and, if stamped, by its own stamp.

    The runtime settings (``timeout_s``, ``stamp_tolerance_s``) are bounded by the read-only
    maxima, so no live change can make older state steer.
    """

    timeout_max_s: float = 1.0
    """Largest ``control.state_timeout_s`` any setting may reach, s."""
    stamp_tolerance_max_s: float = 0.1
    """Largest ``control.stamp_tolerance_s`` any setting may reach, s."""

    def __post_init__(self) -> None:
        """Check the maxima: finite and >= 0."""
        for name in ('timeout_max_s', 'stamp_tolerance_max_s'):
            value = getattr(self, name)
            if not 0.0 <= value < math.inf:
                raise ValueError(f'{name} must be finite and >= 0 s, got {value}')

    def check(self, timeout_s: float, stamp_tolerance_s: float) -> None:
        """Raise ValueError naming the setting that exceeds its maximum."""
        for name, value, high in (
                ('control.state_timeout_s', timeout_s, self.timeout_max_s),
                ('control.stamp_tolerance_s', stamp_tolerance_s, self.stamp_tolerance_max_s)):
            if not 0.0 <= value <= high:
                raise ValueError(f'{name} must lie in [0, {high:g}] s (the read-only maximum), '
                                 f'got {value}')

    @staticmethod
    def is_stale(now_s: float, arrival_s: float, stamp_s: float | None, timeout_s: float,
                 stamp_tolerance_s: float) -> bool:
        """
        Return whether a state must not steer at ``now_s``.

        Stale: arrived more than ``timeout_s`` ago or after ``now_s`` (the clock jumped back);
        or, when stamped (``stamp_s`` not None), stamped more than ``timeout_s`` before
        ``now_s`` or more than ``stamp_tolerance_s`` after it. NaN anywhere is stale.
        """
        if not 0.0 <= now_s - arrival_s <= timeout_s:
            return True
        return stamp_s is not None and not (
            -stamp_tolerance_s <= now_s - stamp_s <= timeout_s)


def check_limit_names(action_names: Sequence[str], limit_names: Sequence[str],
                      limits: Mapping[str, Sequence[float]]) -> None:
    """
    Refuse per-action limits that are not bound to the actor's action names.

    :param action_names: the actor's action names, in command order.
    :param limit_names: the names the limits refer to, in their order (empty: none given).
    :param limits: each per-action limit list by its name (empty lists are not given).
    :raises ValueError: if ``limit_names`` is given and differs from ``action_names``, or limits
        are given without it.
    """
    given = [name for name, values in limits.items() if len(values)]
    if limit_names and list(limit_names) != list(action_names):
        raise ValueError(f'the limits are for actions {list(limit_names)} but the actor has '
                         f'{list(action_names)} (names and order must match)')
    if given and not limit_names:
        raise ValueError(f'{given} hold one value per action: name the actions they refer to '
                         f'(the actor has {list(action_names)}, in this order)')


def _frozen_vector(name: str, value: object) -> np.ndarray:
    """Return a read-only float64 copy of a 1-D sequence; raise ValueError naming it."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f'{name} must be a sequence of numbers, got {value!r}') from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f'{name} must be a non-empty 1-D sequence, got shape {array.shape}')
    array.flags.writeable = False
    return array
