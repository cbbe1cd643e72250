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
Paired comparisons against the frozen actor: bootstrap confidence intervals and verdicts.

Every steered configuration runs the same episodes (seed, start, goal, prior noise) as the
frozen actor, so the unit of analysis is the per-episode difference ``steered - frozen``.
The test: a percentile bootstrap of the mean difference (resampling episodes with replacement,
``resamples`` times, seeded); HELP if the whole ``level`` interval lies above zero, HURT if it
lies below, FROZEN (statistically tied with the frozen actor) otherwise. No correction for the
many cells compared: each verdict is a per-cell statement at its own level.
"""

from __future__ import annotations

import dataclasses
import enum
import math

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_LEVEL = 0.95


class Verdict(str, enum.Enum):
    """How a steered configuration compares with the frozen actor on the same episodes."""

    HELP = 'HELP'
    FROZEN = 'FROZEN'
    HURT = 'HURT'


@dataclasses.dataclass(frozen=True)
class PairedComparison:
    """The mean paired difference, its bootstrap interval and the verdict."""

    mean_difference: float
    low: float
    high: float
    verdict: Verdict
    episodes: int

    @property
    def precise(self) -> bool:
        """Whether the interval is narrower than the effect: size, not just sign, is known."""
        return self.high - self.low < abs(self.mean_difference)

    @property
    def unresolved(self) -> bool:
        """Whether this is HELP or HURT with an interval too wide to give its size (sign only)."""
        return self.verdict is not Verdict.FROZEN and not self.precise


def paired_bootstrap(treated: np.ndarray, baseline: np.ndarray, *,
                     resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL,
                     seed: int = 0) -> PairedComparison:
    """
    Compare ``treated`` with ``baseline`` episode by episode.

    :param treated: one value per episode (e.g. the steered return).
    :param baseline: the same episodes' values under the baseline (the frozen actor).
    :param resamples: bootstrap resamples (>= 1).
    :param level: two-sided confidence level in (0, 1).
    :param seed: seed of the resampling.
    :returns: mean difference, percentile interval and verdict.
    :raises ValueError: for mismatched or non-finite inputs, fewer than 2 episodes, or a bad
        ``resamples`` or ``level``.
    """
    treated = np.asarray(treated, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if treated.ndim != 1 or treated.shape != baseline.shape:
        raise ValueError(f'treated and baseline must be 1-D with one entry per episode, got '
                         f'shapes {treated.shape} and {baseline.shape}')
    if treated.size < 2:
        raise ValueError(f'treated: need at least 2 paired episodes, got {treated.size}')
    if not (np.isfinite(treated).all() and np.isfinite(baseline).all()):
        raise ValueError('treated and baseline must be finite')
    if resamples < 1:
        raise ValueError(f'resamples must be >= 1, got {resamples}')
    if not (math.isfinite(level) and 0.0 < level < 1.0):
        raise ValueError(f'level must lie in (0, 1), got {level}')
    differences = treated - baseline
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, differences.size, size=(resamples, differences.size))
    means = differences[picks].mean(axis=1)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    verdict = Verdict.HELP if low > 0.0 else Verdict.HURT if high < 0.0 else Verdict.FROZEN
    return PairedComparison(float(differences.mean()), float(low), float(high), verdict,
                            int(differences.size))
