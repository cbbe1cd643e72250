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
A three-joint planar arm driven by joint velocities, the project's second (small) task.

The arm lies in the horizontal plane (gravity exerts no torque on its joints), each joint is a
velocity servo with its own torque limit, gearbox inertia (armature) and a position range
enforced by a stiff MuJoCo limit constraint. Commands are
joint velocities (rad/s); the goal is a vector of joint positions (rad) and counts as reached
when the Euclidean joint-space distance is within ``goal_tolerance_rad``. The links do not
collide with each other, so episodes end only on reaching the goal or on time.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from poe_steer_ros.core.interfaces import joint_position_key, joint_velocity_key, RobotState
from poe_steer_sim.goal_env import GoalEnv

JOINT_NAMES = ('shoulder_joint', 'elbow_joint', 'wrist_joint')
LINK_LENGTHS_M = (0.30, 0.25, 0.10)
LINK_MASSES_KG = (1.0, 0.8, 0.3)
JOINT_LIMIT_RAD = 2.6
"""Every joint moves in ``[-JOINT_LIMIT_RAD, JOINT_LIMIT_RAD]``."""
MAX_JOINT_SPEED_RAD_S = 1.5
MAX_JOINT_TORQUE_NM = 10.0
JOINT_VELOCITY_GAIN_NMS = 5.0
PHYSICS_DT_S = 0.005
COMMAND_LOW = np.full(len(JOINT_NAMES), -MAX_JOINT_SPEED_RAD_S)
COMMAND_HIGH = np.full(len(JOINT_NAMES), MAX_JOINT_SPEED_RAD_S)
COMMAND_LOW.flags.writeable = False
COMMAND_HIGH.flags.writeable = False


def build_mjcf(physics_dt_s: float = PHYSICS_DT_S) -> str:
    """Return the MJCF text of the arm (base at the origin, links along +x at zero angles)."""
    body = ''  # built from the hand inwards: each link nests the next one
    for index in reversed(range(len(JOINT_NAMES))):
        name, length, mass = JOINT_NAMES[index], LINK_LENGTHS_M[index], LINK_MASSES_KG[index]
        offset = LINK_LENGTHS_M[index - 1] if index else 0.0
        body = f"""
    <body name="{name.removesuffix('_joint')}_link" pos="{offset} 0 0">
      <joint name="{name}" type="hinge" axis="0 0 1" range="{-JOINT_LIMIT_RAD} {JOINT_LIMIT_RAD}"
             damping="0.05" armature="0.02" solreflimit="0.01 1"/>
      <geom type="capsule" fromto="0 0 0 {length} 0 0" size="0.025" mass="{mass}"/>{body}
    </body>"""
    motors = ''.join(
        f'<velocity name="{name}_motor" joint="{name}" kv="{JOINT_VELOCITY_GAIN_NMS}" '
        f'ctrlrange="{-MAX_JOINT_SPEED_RAD_S} {MAX_JOINT_SPEED_RAD_S}" '
        f'forcerange="{-MAX_JOINT_TORQUE_NM} {MAX_JOINT_TORQUE_NM}"/>\n    '
        for name in JOINT_NAMES)
    return f"""<mujoco model="poe_planar_arm">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{physics_dt_s}" integrator="implicitfast"/>
  <default><geom contype="0" conaffinity="0" rgba="0.2 0.4 0.8 1"/></default>
  <worldbody>
    <light pos="0 0 3" dir="0 0 -1"/>
    <body name="arm_base" pos="0 0 0.1">{body}
    </body>
  </worldbody>
  <actuator>
    {motors}
  </actuator>
</mujoco>
"""


class PlanarArmEnv(GoalEnv):
    """
    Move the arm's joints to goal positions with joint-velocity commands.

    ``reset(options={'goal': q_goal, 'start_positions': q_start})``: without a goal one is drawn
    uniformly within the joint range shrunk by ``goal_margin_rad``; without start positions the
    arm starts stretched out (all zeros).
    """

    command_names = JOINT_NAMES
    command_low = COMMAND_LOW
    command_high = COMMAND_HIGH
    goal_dim = len(JOINT_NAMES)

    def __init__(self, control_dt_s: float = 0.05, max_episode_s: float = 10.0,
                 seed: int | None = None, *, physics_dt_s: float = PHYSICS_DT_S,
                 goal_tolerance_rad: float = 0.05, goal_margin_rad: float = 0.3) -> None:
        super().__init__(physics_dt_s=physics_dt_s, control_dt_s=control_dt_s,
                         max_episode_s=max_episode_s, goal_tolerance=goal_tolerance_rad,
                         collision_penalty=0.0, seed=seed)
        if not 0.0 <= goal_margin_rad < JOINT_LIMIT_RAD:
            raise ValueError(
                f'goal_margin_rad must be in [0, {JOINT_LIMIT_RAD}), got {goal_margin_rad}')
        self.goal_margin_rad = goal_margin_rad
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(physics_dt_s))
        self.data = mujoco.MjData(self.model)
        self._qpos = np.array([self.model.joint(name).qposadr[0] for name in JOINT_NAMES])
        self._dof = np.array([self.model.joint(name).dofadr[0] for name in JOINT_NAMES])

    def start_option_keys(self) -> tuple[str, ...]:
        """Return the reset option that sets the start: ``start_positions``."""
        return ('start_positions',)

    def state(self) -> RobotState:
        """Return joint positions (rad) and velocities (rad/s) under the canonical keys."""
        state = {}
        for name, qpos, dof in zip(JOINT_NAMES, self._qpos, self._dof):
            state[joint_position_key(name)] = float(self.data.qpos[qpos])
            state[joint_velocity_key(name)] = float(self.data.qvel[dof])
        return state

    def _sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        bound = JOINT_LIMIT_RAD - self.goal_margin_rad
        return rng.uniform(-bound, bound, size=len(JOINT_NAMES))

    def _reset_physics(self, start: dict[str, Any]) -> None:
        positions = np.asarray(start.get('start_positions', np.zeros(len(JOINT_NAMES))),
                               dtype=float)
        if positions.shape != (len(JOINT_NAMES),) or not np.all(
                np.abs(positions) <= JOINT_LIMIT_RAD):
            raise ValueError(
                f'start_positions must be {len(JOINT_NAMES)} joint angles within '
                f'+-{JOINT_LIMIT_RAD} rad, got {positions.tolist()}')
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[self._qpos] = positions
        mujoco.mj_forward(self.model, self.data)

    def _advance(self, command: np.ndarray, steps: int) -> bool:
        self.data.ctrl[:] = command
        mujoco.mj_step(self.model, self.data, nstep=steps)
        return False

    def _goal_distance(self, goal: np.ndarray) -> float:
        return float(np.linalg.norm(self.data.qpos[self._qpos] - goal))
