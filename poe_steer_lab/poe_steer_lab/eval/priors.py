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
Goal priors of known quality for the evaluation: oracle, degraded (two flavours) and random.

Each prior is a ``core.priors.GoalPrior`` in COMMAND space, handed to the Steerer as its
learned prior, plus ``start_episode(seed)`` so that every rule meets the same prior noise on
the same episode (the paired design). Noise levels and stds are stated in normalised-action
units, i.e. as fractions of the command half-range ``(high - low) / 2``, so that one number
means the same on the linear (m/s) and angular (rad/s) axes.

* oracle: the expert planner's command toward the deployment goal (the dataset's navigation
  field controller without its noise, ``offline.behaviour``) with a small std ``std_0``.
* degraded: oracle mean plus Gaussian noise of scale ``sigma_n``, temporally correlated as an
  AR(1) process (stationary std ``sigma_n``) because a wrong model is wrong for a while, not
  independently at every tick. Honest flavour: std ``sqrt(std_0**2 + sigma_n**2)``;
  over-confident flavour: std ``std_0`` whatever the noise.
* random: a mean drawn uniformly in the command bounds once per episode (a prior for some
  other task), with a moderate std.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Callable, Protocol

import numpy as np
from poe_steer_lab.offline.behaviour import BehaviourConfig, GoalSeekingBehaviour
from poe_steer_ros.core.gaussian import ActionScale, DiagGaussian
from poe_steer_ros.core.interfaces import RobotState, Space
from poe_steer_sim.world import World

EXPERT_BEHAVIOUR = BehaviourConfig(
    cruise_speed_m_s=(0.7, 0.7), turn_gain_per_s=(2.25, 2.25), lookahead_m=(0.45, 0.45),
    noise_scale=(0.0, 0.0), burst_probability=0.0)
"""The dataset's behaviour at the middle of its ranges, without noise or bursts: the expert."""

_NOISE_STREAM = 1
_RANDOM_STREAM = 2
"""Salts of the per-episode generators, so that different priors draw independent numbers."""


class PriorKind(str, enum.Enum):
    """Quality level of an evaluation prior."""

    ORACLE = 'oracle'
    DEGRADED = 'degraded'
    RANDOM = 'random'


class Flavour(str, enum.Enum):
    """Whether a degraded prior's std admits its noise."""

    HONEST = 'honest'
    """std inflated with the noise: ``sqrt(std_0**2 + sigma_n**2)``."""
    OVERCONFIDENT = 'overconfident'
    """std kept at ``std_0``: a wrong prior that claims to be right."""


@dataclasses.dataclass(frozen=True)
class PriorSpec:
    """
    Which prior an evaluation cell uses.

    :param kind: oracle, degraded or random.
    :param noise: ``sigma_n`` of a degraded prior (normalised-action units, > 0); 0 otherwise.
    :param flavour: honest or overconfident (degraded priors only).
    :raises ValueError: for a degraded prior without noise or a noise on another kind.
    """

    kind: PriorKind = PriorKind.ORACLE
    noise: float = 0.0
    flavour: Flavour = Flavour.HONEST

    def __post_init__(self) -> None:
        """Coerce the enums and check that noise goes with the degraded kind only."""
        object.__setattr__(self, 'kind', PriorKind(self.kind))
        object.__setattr__(self, 'flavour', Flavour(self.flavour))
        degraded = self.kind is PriorKind.DEGRADED
        if not math.isfinite(self.noise) or (self.noise > 0.0) != degraded or self.noise < 0.0:
            raise ValueError(f'noise must be > 0 for a degraded prior and 0 otherwise, got '
                             f'{self.noise} for kind {self.kind.value}')
        if not degraded and self.flavour is not Flavour.HONEST:
            raise ValueError(f'flavour only applies to degraded priors, got {self.flavour.value} '
                             f'for kind {self.kind.value}')

    @property
    def label(self) -> str:
        """Return a short name for tables: ``oracle``, ``honest 0.5``, ``random``..."""
        if self.kind is PriorKind.DEGRADED:
            return f'{self.flavour.value} {self.noise:g}'
        return self.kind.value


ORACLE = PriorSpec()
RANDOM = PriorSpec(PriorKind.RANDOM)


@dataclasses.dataclass(frozen=True)
class PriorSettings:
    """Stds and noise correlation shared by all evaluation priors (normalised-action units)."""

    oracle_std: float = 0.1
    """``std_0``: the oracle's std."""
    random_std: float = 0.5
    """The random prior's std."""
    noise_correlation: float = 0.9
    """AR(1) coefficient of the degraded prior's noise per control step (0 = white noise)."""

    def __post_init__(self) -> None:
        """Check the stds are positive and the correlation in [0, 1)."""
        for name in ('oracle_std', 'random_std'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f'{name} must be finite and > 0, got {value}')
        if not 0.0 <= self.noise_correlation < 1.0:
            raise ValueError(f'noise_correlation must lie in [0, 1), got '
                             f'{self.noise_correlation}')


class EvalPrior(Protocol):
    """A ``core.priors.GoalPrior`` that can be reseeded at the start of each episode."""

    space: Space

    def start_episode(self, seed: int) -> None:
        """Reset any per-episode randomness from ``seed``."""
        ...

    def __call__(self, state: RobotState, goal: np.ndarray, obs: np.ndarray) -> DiagGaussian:
        """Return the prior's Gaussian over the command."""
        ...


class ExpertPrior:
    """
    An expert's noise-free command toward the deployment goal, with std ``std_0``.

    :param expert: (state, goal) -> command inside the command bounds.
    :param scale: the command bounds (stds are fractions of their half-range).
    :param std: ``std_0`` in normalised-action units.
    """

    space = Space.COMMAND

    def __init__(self, expert: Callable[[RobotState, np.ndarray], np.ndarray],
                 scale: ActionScale, std: float) -> None:
        """Keep the expert and the std in command units."""
        self._expert = expert
        self.std = std * scale.scale

    def start_episode(self, seed: int) -> None:
        """Do nothing: the expert is deterministic."""

    def __call__(self, state: RobotState, goal: np.ndarray, obs: np.ndarray) -> DiagGaussian:
        """Return the expert's command as the mean, with std ``std_0``."""
        return DiagGaussian(self.expert_command(state, goal), self.std.copy(), Space.COMMAND)

    def expert_command(self, state: RobotState, goal: np.ndarray) -> np.ndarray:
        """Return the noise-free expert command."""
        return self._expert(state, goal)


class OraclePrior(ExpertPrior):
    """
    The diff-drive world's expert planner (the dataset's controller without noise) as a prior.

    :param world: the world whose obstacles the planner knows.
    :param scale: the command bounds.
    :param std: ``std_0`` in normalised-action units.
    """

    def __init__(self, world: World, scale: ActionScale, std: float) -> None:
        """Build the expert's navigation grid once."""
        behaviour = GoalSeekingBehaviour(world, scale.low, scale.high, EXPERT_BEHAVIOUR)
        super().__init__(lambda state, goal: behaviour(state, goal, 0.0), scale, std)


class DegradedPrior:
    """
    The oracle's mean plus AR(1) Gaussian noise of stationary std ``sigma_n``.

    :param oracle: the clean prior.
    :param scale: the command bounds.
    :param noise: ``sigma_n`` in normalised-action units (> 0).
    :param flavour: honest (std inflated with the noise) or overconfident (std of the oracle).
    :param correlation: AR(1) coefficient per call.
    """

    space = Space.COMMAND

    def __init__(self, oracle: ExpertPrior, scale: ActionScale, noise: float, flavour: Flavour,
                 correlation: float) -> None:
        """Keep the oracle and precompute the noise scale and the reported std."""
        self._oracle = oracle
        self.noise_std = noise * scale.scale
        self.std = (np.sqrt(oracle.std**2 + self.noise_std**2) if flavour is Flavour.HONEST
                    else oracle.std.copy())
        self._correlation = correlation
        self._innovation = math.sqrt(1.0 - correlation**2)
        self._rng = np.random.default_rng(0)
        self._noise: np.ndarray | None = None

    def start_episode(self, seed: int) -> None:
        """Restart the noise process from ``seed``, drawn from its stationary distribution."""
        self._rng = np.random.default_rng([seed, _NOISE_STREAM])
        self._noise = None

    def __call__(self, state: RobotState, goal: np.ndarray, obs: np.ndarray) -> DiagGaussian:
        """Return the noisy oracle mean with the flavour's std; advance the noise one step."""
        draw = self._rng.standard_normal(self.noise_std.shape)
        self._noise = draw if self._noise is None else (
            self._correlation * self._noise + self._innovation * draw)
        mean = self._oracle.expert_command(state, goal) + self.noise_std * self._noise
        return DiagGaussian(mean, self.std.copy(), Space.COMMAND)


class RandomPrior:
    """
    A mean drawn uniformly in the command bounds once per episode, with a moderate std.

    :param scale: the command bounds.
    :param std: the std in normalised-action units.
    """

    space = Space.COMMAND

    def __init__(self, scale: ActionScale, std: float) -> None:
        """Keep the bounds; the first mean is drawn from seed 0."""
        self._scale = scale
        self.std = std * scale.scale
        self.start_episode(0)

    def start_episode(self, seed: int) -> None:
        """Draw this episode's mean from ``seed``."""
        rng = np.random.default_rng([seed, _RANDOM_STREAM])
        self.mean = rng.uniform(self._scale.low, self._scale.high)

    def __call__(self, state: RobotState, goal: np.ndarray, obs: np.ndarray) -> DiagGaussian:
        """Return the episode's random Gaussian (state and goal do not matter)."""
        return DiagGaussian(self.mean.copy(), self.std.copy(), Space.COMMAND)


def build_prior(spec: PriorSpec, oracle: ExpertPrior, scale: ActionScale,
                settings: PriorSettings) -> EvalPrior:
    """
    Return the prior ``spec`` describes, sharing ``oracle``'s planner.

    :param spec: which prior.
    :param oracle: the oracle of the same world and bounds (its std must be ``oracle_std``).
    :param scale: the command bounds.
    :param settings: stds and noise correlation.
    :returns: a prior with ``start_episode`` and the ``GoalPrior`` call.
    """
    if spec.kind is PriorKind.ORACLE:
        return oracle
    if spec.kind is PriorKind.RANDOM:
        return RandomPrior(scale, settings.random_std)
    return DegradedPrior(oracle, scale, spec.noise, spec.flavour, settings.noise_correlation)
