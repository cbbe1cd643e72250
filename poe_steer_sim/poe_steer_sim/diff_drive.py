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
A differential-drive mobile base in MuJoCo: the robot, its physics and its training env.

The robot is a small two-wheeled base with a passive rear caster (numbers in ``GEOMETRY``).
Commands are ``[v, w]``: forward speed (m/s, body x) and yaw rate (rad/s), turned into wheel
speeds as ros2_control's diff_drive_controller does, and tracked by velocity-servo actuators
with their own speed and torque limits. ``COMMAND_LOW``/``COMMAND_HIGH`` are the command bounds
the whole project uses (the actor's action bounds).

Modelling choices, for speed and stability at a 5 ms step:

* The base moves on x/y/z slides and a yaw hinge, so it cannot pitch or roll: a flat-floor base
  never does, and this removes the caster bounce a free-floating body shows under traction
  torque. The wheels carry the full weight, so traction and wheel slip are real contacts.
* Wheels collide as spheres of the wheel radius (one clean contact point with the floor, no
  rim chatter); the caster is drawn but carries no load.

A planar lidar (``LIDAR``) at the base centre casts horizontal rays with ``mujoco.mj_multiRay``
against the obstacles and walls; the robot's own geoms sit below it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import mujoco
import numpy as np

from poe_steer_ros.core.interfaces import BASE_V, BASE_W, BASE_X, BASE_Y, BASE_YAW, \
    joint_position_key, joint_velocity_key, RobotState
from poe_steer_ros.core.scan import ScanBinning, ScanGeometry
from poe_steer_sim.goal_env import clip_command, GoalEnv
from poe_steer_sim.world import BoxObstacle, CylinderObstacle, Pose2D, World


def _read_only(values: list[float]) -> np.ndarray:
    array = np.array(values, dtype=float)
    array.flags.writeable = False
    return array


COMMAND_NAMES = ('v', 'w')
"""Command fields: forward speed (m/s, body x) and yaw rate (rad/s, counter-clockwise)."""
COMMAND_LOW = _read_only([-0.5, -2.0])
COMMAND_HIGH = _read_only([1.0, 2.0])
WHEEL_JOINT_NAMES = ('left_wheel_joint', 'right_wheel_joint')
PHYSICS_DT_S = 0.005
"""Default MuJoCo timestep (s)."""


@dataclasses.dataclass(frozen=True)
class DiffDriveGeometry:
    """Dimensions, masses and motor limits of the simulated base (SI units)."""

    wheel_radius_m: float = 0.05
    wheel_separation_m: float = 0.30
    """Distance between the wheel centres (the track)."""
    wheel_width_m: float = 0.025
    wheel_mass_kg: float = 0.3
    chassis_length_m: float = 0.30
    chassis_width_m: float = 0.22
    chassis_height_m: float = 0.08
    chassis_mass_kg: float = 3.0
    chassis_lift_m: float = 0.02
    """Height of the chassis centre above the wheel axle."""
    caster_radius_m: float = 0.02
    max_wheel_speed_rad_s: float = 30.0
    max_wheel_torque_nm: float = 0.4
    wheel_velocity_gain_nms: float = 0.3
    """Velocity-servo gain: torque = gain * (commanded - actual wheel speed), then clamped."""

    @property
    def caster_x_m(self) -> float:
        """Return the caster's x in the base frame (under the chassis's rear end)."""
        return -(self.chassis_length_m / 2 - self.caster_radius_m)


GEOMETRY = DiffDriveGeometry()


@dataclasses.dataclass(frozen=True)
class LidarSpec:
    """The planar lidar of the base: a full turn of rays, as a 2D laser scanner gives."""

    rays: int = 72
    """Rays per scan, evenly over the full turn from -pi (5 deg apart)."""
    range_min_m: float = 0.05
    range_max_m: float = 4.0
    height_m: float = 0.2
    """Height of the rays above the floor: above the chassis, below walls and obstacles."""
    rate_hz: float = 20.0
    """Scans per second (simulated time)."""

    def geometry(self) -> ScanGeometry:
        """Return the bearings of the rays (body frame, counter-clockwise from ahead)."""
        return ScanGeometry(-math.pi, 2.0 * math.pi / self.rays, self.rays)


LIDAR = LidarSpec()


def wheel_speeds(v_m_s: float, w_rad_s: float,
                 geometry: DiffDriveGeometry = GEOMETRY) -> tuple[float, float]:
    """Return (left, right) wheel speeds (rad/s) for a body twist, as diff_drive_controller."""
    half_track = geometry.wheel_separation_m / 2
    return ((v_m_s - w_rad_s * half_track) / geometry.wheel_radius_m,
            (v_m_s + w_rad_s * half_track) / geometry.wheel_radius_m)


def _obstacle_mjcf(name: str, solid: CylinderObstacle | BoxObstacle) -> str:
    if isinstance(solid, CylinderObstacle):
        return (f'<geom name="{name}" type="cylinder" size="{solid.radius_m} '
                f'{solid.height_m / 2}" pos="{solid.x_m} {solid.y_m} {solid.height_m / 2}" '
                'material="obstacle"/>')
    return (f'<geom name="{name}" type="box" size="{solid.size_x_m / 2} {solid.size_y_m / 2} '
            f'{solid.height_m / 2}" pos="{solid.x_m} {solid.y_m} {solid.height_m / 2}" '
            f'euler="0 0 {solid.yaw_rad}" material="obstacle"/>')


def _wheel_mjcf(side: str, sign: int, geometry: DiffDriveGeometry) -> str:
    # The sphere (group 3, hidden in the viewer) touches the floor; the cylinder is only drawn.
    radius = geometry.wheel_radius_m
    return f"""
      <body name="{side}_wheel" pos="0 {sign * geometry.wheel_separation_m / 2} 0">
        <joint name="{side}_wheel_joint" type="hinge" axis="0 1 0"/>
        <geom name="{side}_wheel_contact" type="sphere" size="{radius}"
              mass="{geometry.wheel_mass_kg}" friction="1.0 0.005 0.0001" group="3"/>
        <geom name="{side}_wheel_visual" type="cylinder"
              size="{radius} {geometry.wheel_width_m / 2}" euler="{math.pi / 2:.9g} 0 0"
              contype="0" conaffinity="0" mass="0" material="tyre"/>
      </body>"""


def build_mjcf(world: World, geometry: DiffDriveGeometry = GEOMETRY,
               physics_dt_s: float = PHYSICS_DT_S) -> str:
    """
    Return the MJCF text of the base in ``world`` (obstacles and walls as named geoms).

    Obstacle geoms (``obstacle_<i>``) and walls (``wall_<i>``) belong to the static body
    ``obstacles``; the contact sensor ``obstacle_contacts`` counts the base's contacts with it.
    The base body is ``base_link`` and sits at the world origin when its joints are zero.
    """
    solids = [_obstacle_mjcf(f'obstacle_{index}', solid)
              for index, solid in enumerate(world.obstacles)]
    if world.arena is not None:
        solids += [_obstacle_mjcf(f'wall_{index}', wall)
                   for index, wall in enumerate(world.arena.walls())]
    g = geometry
    motors = ''.join(
        f'<velocity name="{joint}_motor" joint="{joint}" kv="{g.wheel_velocity_gain_nms}" '
        f'ctrlrange="{-g.max_wheel_speed_rad_s} {g.max_wheel_speed_rad_s}" '
        f'forcerange="{-g.max_wheel_torque_nm} {g.max_wheel_torque_nm}"/>\n    '
        for joint in WHEEL_JOINT_NAMES)
    solid_lines = '\n      '.join(solids)
    chassis_half_size = (f'{g.chassis_length_m / 2:.9g} {g.chassis_width_m / 2:.9g} '
                         f'{g.chassis_height_m / 2:.9g}')
    caster_position = f'{g.caster_x_m:.9g} 0 {g.caster_radius_m - g.wheel_radius_m:.9g}'
    return f"""<mujoco model="poe_diff_drive">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{physics_dt_s}" integrator="implicitfast"/>
  <visual><global offwidth="640" offheight="480"/></visual>
  <asset>
    <material name="floor" rgba="0.8 0.8 0.8 1"/>
    <material name="obstacle" rgba="0.8 0.3 0.2 1"/>
    <material name="chassis" rgba="0.2 0.4 0.8 1"/>
    <material name="tyre" rgba="0.1 0.1 0.1 1"/>
  </asset>
  <worldbody>
    <light pos="0 0 5" dir="0 0 -1"/>
    <geom name="floor" type="plane" size="0 0 0.05" material="floor"/>
    <body name="obstacles">
      {solid_lines}
    </body>
    <body name="base_link" pos="0 0 {g.wheel_radius_m}">
      <joint name="base_x" type="slide" axis="1 0 0"/>
      <joint name="base_y" type="slide" axis="0 1 0"/>
      <joint name="base_z" type="slide" axis="0 0 1"/>
      <joint name="base_yaw" type="hinge" axis="0 0 1"/>
      <geom name="chassis" type="box" size="{chassis_half_size}" pos="0 0 {g.chassis_lift_m}"
            mass="{g.chassis_mass_kg}" material="chassis"/>
      <geom name="caster" type="sphere" size="{g.caster_radius_m}" pos="{caster_position}"
            contype="0" conaffinity="0" mass="0"/>
      {_wheel_mjcf('left', 1, g)}
      {_wheel_mjcf('right', -1, g)}
    </body>
  </worldbody>
  <actuator>
    {motors}
  </actuator>
  <sensor>
    <contact name="obstacle_contacts" subtree1="base_link" body2="obstacles" data="found"/>
  </sensor>
</mujoco>
"""


class DiffDriveSim:
    """
    The base's physics: set a command, advance, read the state, detect collisions.

    Used directly by the ROS node (which steps it against the wall clock) and wrapped by
    ``DiffDriveEnv`` for training and evaluation. Simulated time never goes backwards, also
    across ``reset``, because it is the ``/clock`` of the ROS node.
    """

    def __init__(self, world: World, physics_dt_s: float = PHYSICS_DT_S,
                 geometry: DiffDriveGeometry = GEOMETRY) -> None:
        if not (math.isfinite(physics_dt_s) and 0.0 < physics_dt_s <= 0.02):
            raise ValueError(f'physics_dt_s must be in (0, 0.02] s, got {physics_dt_s}')
        self.world = world
        self.geometry = geometry
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(world, geometry, physics_dt_s))
        self.data = mujoco.MjData(self.model)
        joint = self.model.joint
        self._base_qpos = np.array([joint(name).qposadr[0]
                                    for name in ('base_x', 'base_y', 'base_yaw')])
        self._base_dof = np.array([joint(name).dofadr[0]
                                   for name in ('base_x', 'base_y', 'base_yaw')])
        self._wheel_qpos = np.array([joint(name).qposadr[0] for name in WHEEL_JOINT_NAMES])
        self._wheel_dof = np.array([joint(name).dofadr[0] for name in WHEEL_JOINT_NAMES])
        self._contact_adr = int(self.model.sensor('obstacle_contacts').adr[0])
        self._base_body = int(self.model.body('base_link').id)
        self.lidar = LIDAR
        self._ray_angles = self.lidar.geometry().angles()
        self._ray_vectors = np.zeros((self.lidar.rays, 3))
        self._ray_geoms = np.zeros(self.lidar.rays, dtype=np.int32)
        self._ray_distances = np.zeros(self.lidar.rays)
        self._touching = False
        self.collision_count = 0
        """Number of collisions so far: times a contact with an obstacle or wall began."""
        self.reset(world.start_pose)

    @property
    def time_s(self) -> float:
        """Return the simulated time (s)."""
        return float(self.data.time)

    @property
    def physics_dt_s(self) -> float:
        """Return the MuJoCo timestep (s)."""
        return float(self.model.opt.timestep)

    @property
    def touching(self) -> bool:
        """Return whether the base touched an obstacle or wall at the last physics step."""
        return self._touching

    def reset(self, pose: Pose2D) -> None:
        """Put the base at rest at ``pose`` with a zero command, keeping the simulated time."""
        time_s = self.data.time
        mujoco.mj_resetData(self.model, self.data)
        self.data.time = time_s
        self.data.qpos[self._base_qpos] = (pose.x_m, pose.y_m, pose.yaw_rad)
        mujoco.mj_forward(self.model, self.data)
        self._touching = False

    def set_command(self, command: Any) -> np.ndarray:
        """
        Set the wheel speeds for ``[v, w]`` clipped to the command bounds; return the clip.

        :raises ValueError: when ``command`` is not two finite numbers.

        """
        applied = clip_command(command, COMMAND_LOW, COMMAND_HIGH)
        self.data.ctrl[:] = wheel_speeds(applied[0], applied[1], self.geometry)
        return applied

    def advance(self, steps: int) -> bool:
        """Run ``steps`` physics steps; return whether an obstacle or wall was touched."""
        model, data, adr = self.model, self.data, self._contact_adr
        touched = False
        for _ in range(steps):
            mujoco.mj_step(model, data)
            touching = bool(data.sensordata[adr] > 0.0)
            if touching and not self._touching:
                self.collision_count += 1
            self._touching = touching
            touched |= touching
        return touched

    def position(self) -> tuple[float, float]:
        """Return the base's position ``(x, y)`` in the world frame (m)."""
        x, y = self.data.qpos[self._base_qpos[:2]]
        return float(x), float(y)

    def body_twist(self) -> tuple[float, float, float]:
        """Return the base's velocity in its own frame: forward, lateral (m/s), yaw rate."""
        yaw = self.data.qpos[self._base_qpos[2]]
        vx, vy, w = self.data.qvel[self._base_dof]
        cos_yaw, sin_yaw = math.cos(yaw), math.sin(yaw)
        return (float(cos_yaw * vx + sin_yaw * vy), float(-sin_yaw * vx + cos_yaw * vy),
                float(w))

    def scan_ranges(self) -> np.ndarray:
        """
        Cast the lidar's rays from the base centre; return one range per ray (m).

        Rays that hit nothing within ``range_max_m`` read ``+inf`` (REP 117: no return).
        """
        x, y, yaw = self.data.qpos[self._base_qpos]
        bearings = yaw + self._ray_angles
        self._ray_vectors[:, 0] = np.cos(bearings)
        self._ray_vectors[:, 1] = np.sin(bearings)
        origin = np.array([x, y, self.lidar.height_m])
        mujoco.mj_multiRay(self.model, self.data, origin, self._ray_vectors.ravel(), None, True,
                           self._base_body, self._ray_geoms, self._ray_distances, None,
                           self.lidar.rays, self.lidar.range_max_m)
        ranges = self._ray_distances.copy()
        ranges[(ranges < 0.0) | (ranges > self.lidar.range_max_m)] = math.inf
        return ranges

    def state(self) -> RobotState:
        """Return the canonical state: base pose and twist, wheel positions and speeds."""
        x, y, yaw = self.data.qpos[self._base_qpos]
        v, _, w = self.body_twist()
        state = {BASE_X: float(x), BASE_Y: float(y), BASE_YAW: math.remainder(yaw, math.tau),
                 BASE_V: v, BASE_W: w}
        for name, qpos, dof in zip(WHEEL_JOINT_NAMES, self._wheel_qpos, self._wheel_dof):
            state[joint_position_key(name)] = float(self.data.qpos[qpos])
            state[joint_velocity_key(name)] = float(self.data.qvel[dof])
        return state


class DiffDriveEnv(GoalEnv):
    """
    Drive the base to a goal position ``[x, y]`` (m) in a world with obstacles.

    ``reset(options={'goal': [x, y], 'start_pose': (x, y, yaw) or Pose2D})``: without a goal
    one is sampled from the world's goal region at least ``goal_clearance_m`` from obstacles;
    without a start pose the world's is used. The goal counts as reached when the base centre
    is within ``goal_tolerance_m`` of it. With ``scan`` the state also holds the lidar's sector
    features ``scan.<i>`` (``core.scan``), as the steering node assembles them.
    """

    command_names = COMMAND_NAMES
    command_low = COMMAND_LOW
    command_high = COMMAND_HIGH
    goal_dim = 2

    def __init__(self, world: World, control_dt_s: float = 0.05, max_episode_s: float = 30.0,
                 seed: int | None = None, *, physics_dt_s: float = PHYSICS_DT_S,
                 goal_tolerance_m: float = 0.25, goal_clearance_m: float = 0.35,
                 collision_penalty: float = 1.0, scan: ScanBinning | None = None) -> None:
        super().__init__(physics_dt_s=physics_dt_s, control_dt_s=control_dt_s,
                         max_episode_s=max_episode_s, goal_tolerance=goal_tolerance_m,
                         collision_penalty=collision_penalty, seed=seed)
        self.world = world
        self.goal_clearance_m = goal_clearance_m
        self.sim = DiffDriveSim(world, physics_dt_s)
        self.scan = scan
        self._scan_geometry = self.sim.lidar.geometry()

    def start_option_keys(self) -> tuple[str, ...]:
        """Return the reset option that sets the start: ``start_pose``."""
        return ('start_pose',)

    def state(self) -> RobotState:
        """Return the canonical state of the base (and the scan features with ``scan``)."""
        state = dict(self.sim.state())
        if self.scan is not None:
            lidar = self.sim.lidar
            state.update(self.scan.state(self._scan_geometry, self.sim.scan_ranges(),
                                         lidar.range_min_m, lidar.range_max_m))
        return state

    def _sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        return self.world.sample_goal(rng, self.goal_clearance_m)

    def _reset_physics(self, start: dict[str, Any]) -> None:
        pose = start.get('start_pose', self.world.start_pose)
        if not isinstance(pose, Pose2D):
            values = np.asarray(pose, dtype=float)
            if values.shape != (3,):
                raise ValueError(f'start_pose must be (x_m, y_m, yaw_rad), got {pose!r}')
            pose = Pose2D(*values.tolist())
        self.sim.reset(pose)

    def _advance(self, command: np.ndarray, steps: int) -> bool:
        self.sim.set_command(command)
        return self.sim.advance(steps)

    def _goal_distance(self, goal: np.ndarray) -> float:
        x, y = self.sim.position()
        return math.hypot(goal[0] - x, goal[1] - y)
