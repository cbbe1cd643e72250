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
Gazebo (gz sim Harmonic) world equivalent to the MuJoCo simulation, generated from a World.

The SDF holds the same obstacles and arena walls as the world YAML, a ground plane and the same
differential-drive base (``diff_drive.GEOMETRY``). It offers the MuJoCo node's topics through
``config/gz_bridge.yaml``: ``cmd_vel`` drives the DiffDrive system; ``odom`` comes from the
OdometryPublisher system (ground-truth pose in the world frame, like the MuJoCo node, rather
than DiffDrive's wheel odometry, which goes to the unbridged ``/wheel_odom``); ``joint_states``
from the JointStatePublisher; ``scan`` from a ``gpu_lidar`` sensor with the MuJoCo lidar's rays,
range and rate (``diff_drive.LIDAR``, rendered by the Sensors system); ``/clock`` from the
server. Unlike the MuJoCo node, gz's DiffDrive
has no command timeout: the last command holds until a new one arrives.

Regenerate the checked-in ``worlds/diff_drive.sdf`` after editing ``config/sim_world.yaml``::

    python -m poe_steer_sim.gazebo_world
"""

from __future__ import annotations

import math
import pathlib

from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW, DiffDriveGeometry, \
    GEOMETRY, LIDAR, LidarSpec, WHEEL_JOINT_NAMES
from poe_steer_sim.world import BoxObstacle, CylinderObstacle, DEFAULT_WORLD_FILE, \
    load_world, World

SOURCE_ROOT = pathlib.Path(__file__).resolve().parents[1]
SDF_PATH = SOURCE_ROOT / 'worlds' / 'diff_drive.sdf'
ROBOT_MODEL_NAME = 'poe_diff_drive'
GZ_TOPICS = {'cmd_vel': '/cmd_vel', 'odom': '/odom', 'joint_states': '/joint_states',
             'scan': '/scan', 'clock': '/clock'}
"""gz-transport topic of each bridged ROS topic (keys are the MuJoCo node's topic names)."""
ODOM_RATE_HZ = 50.0


def _inertial(mass_kg: float, diagonal: tuple[float, ...],
              z_offset_m: float = 0.0) -> str:
    """Return an SDF inertial with principal moments ``diagonal`` (kg m^2) at ``z_offset_m``."""
    ixx, iyy, izz = diagonal
    return (f'<inertial><pose>0 0 {z_offset_m} 0 0 0</pose><mass>{mass_kg}</mass><inertia>'
            f'<ixx>{ixx:.6g}</ixx><iyy>{iyy:.6g}</iyy><izz>{izz:.6g}</izz>'
            '<ixy>0</ixy><ixz>0</ixz><iyz>0</iyz></inertia></inertial>')


def _box_moments(mass_kg: float, x_m: float, y_m: float, z_m: float) -> tuple[float, ...]:
    return ((y_m ** 2 + z_m ** 2) * mass_kg / 12, (x_m ** 2 + z_m ** 2) * mass_kg / 12,
            (x_m ** 2 + y_m ** 2) * mass_kg / 12)


def _shape(solid: CylinderObstacle | BoxObstacle) -> str:
    if isinstance(solid, CylinderObstacle):
        return (f'<cylinder><radius>{solid.radius_m}</radius>'
                f'<length>{solid.height_m}</length></cylinder>')
    size = f'{solid.size_x_m:.9g} {solid.size_y_m:.9g} {solid.height_m:.9g}'
    return f'<box><size>{size}</size></box>'


def _static_model(name: str, solid: CylinderObstacle | BoxObstacle) -> str:
    yaw = solid.yaw_rad if isinstance(solid, BoxObstacle) else 0.0
    shape = _shape(solid)
    return f"""
    <model name="{name}">
      <static>true</static>
      <pose>{solid.x_m:.9g} {solid.y_m:.9g} {solid.height_m / 2:.9g} 0 0 {yaw:.9g}</pose>
      <link name="link">
        <collision name="collision"><geometry>{shape}</geometry></collision>
        <visual name="visual"><geometry>{shape}</geometry>
          <material><diffuse>0.8 0.3 0.2 1</diffuse></material></visual>
      </link>
    </model>"""


def _wheel(side: str, sign: int, g: DiffDriveGeometry) -> str:
    cylinder = (f'<cylinder><radius>{g.wheel_radius_m}</radius>'
                f'<length>{g.wheel_width_m}</length></cylinder>')
    radial = g.wheel_mass_kg * (3 * g.wheel_radius_m ** 2 + g.wheel_width_m ** 2) / 12
    axial = g.wheel_mass_kg * g.wheel_radius_m ** 2 / 2
    # The link frame stays parallel to base_link; only the cylinder is turned onto the y axis.
    return f"""
      <link name="{side}_wheel">
        <pose>0 {sign * g.wheel_separation_m / 2:.9g} 0 0 0 0</pose>
        {_inertial(g.wheel_mass_kg, (radial, axial, radial))}
        <collision name="collision"><pose>0 0 0 {-math.pi / 2:.9g} 0 0</pose>
          <geometry>{cylinder}</geometry></collision>
        <visual name="visual"><pose>0 0 0 {-math.pi / 2:.9g} 0 0</pose>
          <geometry>{cylinder}</geometry>
          <material><diffuse>0.1 0.1 0.1 1</diffuse></material></visual>
      </link>
      <joint name="{side}_wheel_joint" type="revolute">
        <parent>base_link</parent>
        <child>{side}_wheel</child>
        <axis><xyz>0 1 0</xyz>
          <limit><lower>-1e16</lower><upper>1e16</upper>
            <velocity>{g.max_wheel_speed_rad_s}</velocity>
            <effort>{g.max_wheel_torque_nm}</effort></limit></axis>
      </joint>"""


def _lidar(lidar: LidarSpec, g: DiffDriveGeometry) -> str:
    """Return the gpu_lidar sensor of base_link: the MuJoCo lidar's rays, range and rate."""
    geometry = lidar.geometry()
    angle_max = geometry.angle_min + geometry.increment * (geometry.count - 1)
    return f"""
        <sensor name="lidar" type="gpu_lidar">
          <pose>0 0 {lidar.height_m - g.wheel_radius_m:.9g} 0 0 0</pose>
          <topic>{GZ_TOPICS['scan']}</topic>
          <gz_frame_id>base_link</gz_frame_id>
          <update_rate>{lidar.rate_hz}</update_rate>
          <always_on>true</always_on>
          <lidar>
            <scan><horizontal><samples>{geometry.count}</samples><resolution>1</resolution>
              <min_angle>{geometry.angle_min:.9g}</min_angle>
              <max_angle>{angle_max:.9g}</max_angle></horizontal></scan>
            <range><min>{lidar.range_min_m}</min><max>{lidar.range_max_m}</max>
              <resolution>0.01</resolution></range>
          </lidar>
        </sensor>"""


def _robot(world: World, g: DiffDriveGeometry) -> str:
    pose = world.start_pose
    chassis = (f'<box><size>{g.chassis_length_m} {g.chassis_width_m} '
               f'{g.chassis_height_m}</size></box>')
    chassis_moments = _box_moments(g.chassis_mass_kg, g.chassis_length_m, g.chassis_width_m,
                                   g.chassis_height_m)
    caster_pose = f'{g.caster_x_m:.9g} 0 {g.caster_radius_m - g.wheel_radius_m:.9g} 0 0 0'
    left, right = WHEEL_JOINT_NAMES
    joint_names = ''.join(f'<joint_name>{name}</joint_name>' for name in WHEEL_JOINT_NAMES)
    return f"""
    <model name="{ROBOT_MODEL_NAME}">
      <pose>{pose.x_m} {pose.y_m} {g.wheel_radius_m} 0 0 {pose.yaw_rad}</pose>
      <link name="base_link">
        {_inertial(g.chassis_mass_kg, chassis_moments, g.chassis_lift_m)}
        <collision name="chassis"><pose>0 0 {g.chassis_lift_m} 0 0 0</pose>
          <geometry>{chassis}</geometry></collision>
        <visual name="chassis"><pose>0 0 {g.chassis_lift_m} 0 0 0</pose>
          <geometry>{chassis}</geometry>
          <material><diffuse>0.2 0.4 0.8 1</diffuse></material></visual>
        <collision name="caster"><pose>{caster_pose}</pose>
          <geometry><sphere><radius>{g.caster_radius_m}</radius></sphere></geometry>
          <surface><friction><ode><mu>0</mu><mu2>0</mu2></ode></friction></surface></collision>
        <visual name="caster"><pose>{caster_pose}</pose>
          <geometry><sphere><radius>{g.caster_radius_m}</radius></sphere></geometry></visual>
        {_lidar(LIDAR, g)}
      </link>{_wheel('left', 1, g)}{_wheel('right', -1, g)}
      <plugin filename="gz-sim-diff-drive-system" name="gz::sim::systems::DiffDrive">
        <left_joint>{left}</left_joint>
        <right_joint>{right}</right_joint>
        <wheel_separation>{g.wheel_separation_m}</wheel_separation>
        <wheel_radius>{g.wheel_radius_m}</wheel_radius>
        <min_linear_velocity>{COMMAND_LOW[0]}</min_linear_velocity>
        <max_linear_velocity>{COMMAND_HIGH[0]}</max_linear_velocity>
        <min_angular_velocity>{COMMAND_LOW[1]}</min_angular_velocity>
        <max_angular_velocity>{COMMAND_HIGH[1]}</max_angular_velocity>
        <topic>{GZ_TOPICS['cmd_vel']}</topic>
        <odom_topic>/wheel_odom</odom_topic>
        <tf_topic>/wheel_odom/tf</tf_topic>
        <frame_id>odom</frame_id>
        <child_frame_id>base_link</child_frame_id>
        <odom_publish_frequency>{ODOM_RATE_HZ}</odom_publish_frequency>
      </plugin>
      <plugin filename="gz-sim-odometry-publisher-system"
              name="gz::sim::systems::OdometryPublisher">
        <odom_topic>{GZ_TOPICS['odom']}</odom_topic>
        <odom_frame>odom</odom_frame>
        <robot_base_frame>base_link</robot_base_frame>
        <odom_publish_frequency>{ODOM_RATE_HZ}</odom_publish_frequency>
        <dimensions>2</dimensions>
      </plugin>
      <plugin filename="gz-sim-joint-state-publisher-system"
              name="gz::sim::systems::JointStatePublisher">
        <topic>{GZ_TOPICS['joint_states']}</topic>
        {joint_names}
      </plugin>
    </model>"""


def build_sdf(world: World, geometry: DiffDriveGeometry = GEOMETRY) -> str:
    """Return the SDF 1.9 text of ``world`` with the base at its start pose."""
    solids = [_static_model(f'obstacle_{index}', solid)
              for index, solid in enumerate(world.obstacles)]
    if world.arena is not None:
        solids += [_static_model(f'wall_{index}', wall)
                   for index, wall in enumerate(world.arena.walls())]
    return f"""<?xml version="1.0"?>
<!-- Generated from config/{DEFAULT_WORLD_FILE} by `python -m poe_steer_sim.gazebo_world`;
     edit the YAML and regenerate instead of editing this file. -->
<sdf version="1.9">
  <world name="poe_steer">
    <physics name="1ms" type="ignored">
      <max_step_size>0.001</max_step_size>
      <real_time_factor>1.0</real_time_factor>
    </physics>
    <plugin filename="gz-sim-physics-system" name="gz::sim::systems::Physics"/>
    <plugin filename="gz-sim-user-commands-system" name="gz::sim::systems::UserCommands"/>
    <plugin filename="gz-sim-scene-broadcaster-system"
            name="gz::sim::systems::SceneBroadcaster"/>
    <plugin filename="gz-sim-sensors-system" name="gz::sim::systems::Sensors">
      <render_engine>ogre2</render_engine>
    </plugin>
    <light type="directional" name="sun">
      <cast_shadows>true</cast_shadows>
      <pose>0 0 10 0 0 0</pose>
      <direction>-0.5 0.1 -0.9</direction>
    </light>
    <model name="ground_plane">
      <static>true</static>
      <link name="link">
        <collision name="collision"><geometry><plane><normal>0 0 1</normal>
          <size>100 100</size></plane></geometry></collision>
        <visual name="visual"><geometry><plane><normal>0 0 1</normal>
          <size>100 100</size></plane></geometry>
          <material><diffuse>0.8 0.8 0.8 1</diffuse></material></visual>
      </link>
    </model>{''.join(solids)}{_robot(world, geometry)}
  </world>
</sdf>
"""


def main() -> None:
    """Regenerate ``worlds/diff_drive.sdf`` from the source tree's ``config/sim_world.yaml``."""
    world = load_world(SOURCE_ROOT / 'config' / DEFAULT_WORLD_FILE)
    SDF_PATH.write_text(build_sdf(world), encoding='utf-8')


if __name__ == '__main__':
    main()
