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
Shared vocabulary of the ROS-free core: numeric spaces, state keys and the actor protocol.

Three numeric spaces appear everywhere and are always named:

* pre-squash ``u``: where the actor's Gaussian lives and where composition happens.
  For a ``tanh_gaussian`` actor the normalised action is ``a = tanh(u)``; for ``gaussian`` and
  ``deterministic`` actors pre-squash and normalised action coincide (``a = clip(u, -1, 1)``).
* normalised action ``a`` in ``[-1, 1]^d``.
* command ``c = offset + scale * a`` in physical units, with ``scale = (high - low) / 2`` and
  ``offset = (high + low) / 2`` taken from the actor manifest's action bounds.

A robot state reaches the core as a flat mapping from canonical keys to floats. ROS adapters
and simulation environments fill it; observation layouts and goal priors read it.
"""

from __future__ import annotations

import enum
from typing import Mapping, Protocol, runtime_checkable

import numpy as np

RobotState = Mapping[str, float]
"""A robot state: canonical key -> value in SI units (m, rad, m/s, rad/s)."""

# Planar mobile base (REP-105 ``odom`` frame; velocities in the body frame).
ACTION_BOUND_MAX = 1e6
"""
Largest magnitude of an action bound, command units: manifests with larger ones are refused
(no actuator needs them, and ``offset + scale * a`` would lose every digit of the command).
"""

BASE_X = 'base.x'
BASE_Y = 'base.y'
BASE_YAW = 'base.yaw'
BASE_V = 'base.v'
BASE_W = 'base.w'
BASE_KEYS = (BASE_X, BASE_Y, BASE_YAW, BASE_V, BASE_W)


def joint_position_key(name: str) -> str:
    """Return the state key of a joint's position (rad or m)."""
    return f'joint.position.{name}'


def joint_velocity_key(name: str) -> str:
    """Return the state key of a joint's velocity (rad/s or m/s)."""
    return f'joint.velocity.{name}'


def array_key(index: int) -> str:
    """Return the state key of slot ``index`` of a raw observation array."""
    return f'array.{index}'


class Space(str, enum.Enum):
    """The numeric space a Gaussian or a vector lives in."""

    PRE_SQUASH = 'pre_squash'
    ACTION = 'action'
    COMMAND = 'command'


class OutputKind(str, enum.Enum):
    """What a frozen actor's output means."""

    GAUSSIAN = 'gaussian'
    """Mean and log-std of a Gaussian over the normalised action (clipped to [-1, 1])."""
    TANH_GAUSSIAN = 'tanh_gaussian'
    """Mean and log-std of a Gaussian over ``u``; the normalised action is ``tanh(u)``."""
    DETERMINISTIC = 'deterministic'
    """A mean only; the manifest states the std assumed for composition."""


@runtime_checkable
class Actor(Protocol):
    """What the Steerer needs from a frozen actor (implemented by ``core.actor.FrozenActor``)."""

    obs_dim: int
    action_dim: int
    output_kind: OutputKind
    action_low: np.ndarray
    action_high: np.ndarray

    def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map raw observations ``(obs_dim,)`` or ``(N, obs_dim)`` to pre-squash mean, log-std."""
        ...
