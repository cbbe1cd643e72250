"""
The safety envelope: read-only limits every command passes through.

Built once at startup from read-only parameters; its arrays are copied and made read-only, and
no runtime setting can widen it. ``alpha_max`` caps the prior's weight for every rule.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np
from poe_steer_ros.core import kernels


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
    No configuration can give the prior a larger weight (for kl, a larger ``beta`` than ``alpha_max
    / (1 - alpha_max)``); 1 allows prior_only.
    """
    fallback: Fallback = Fallback.HOLD
    """What to send when composition yields non-finite values."""

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
        try:
            fallback = Fallback(self.fallback)
        except ValueError:
            raise ValueError(f'fallback must be one of {[f.value for f in Fallback]}, '
                             f'got {self.fallback!r}') from None
        for name, value in (('command_low', low), ('command_high', high),
                            ('max_rate_per_s', rate), ('alpha_max', float(self.alpha_max)),
                            ('fallback', fallback)):
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
            (``kernels.MIN_DT_S``: the command holds).
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
        changed = kernels.clamp(flat[0], self.command_low, self.command_high,
                                self.max_rate_per_s, flat[1], dt_s, rate_limited, flat[2])
        return clamped, changed


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
