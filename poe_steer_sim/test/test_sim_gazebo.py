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

"""Gazebo assets, checked statically: SDF world and ros_gz_bridge config match the MuJoCo sim."""

import pathlib
import xml.etree.ElementTree as ElementTree

import mujoco
import numpy as np
from poe_steer_sim.diff_drive import build_mjcf, COMMAND_HIGH, COMMAND_LOW, GEOMETRY, LIDAR, \
    WHEEL_JOINT_NAMES
from poe_steer_sim.gazebo_world import build_sdf, GZ_TOPICS, ROBOT_MODEL_NAME
from poe_steer_sim.mujoco_sim_node import BASE_FRAME, Direction, ODOM_FRAME, TOPICS
from poe_steer_sim.world import load_world
import pytest
import yaml

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[1]
WORLD_YAML = PACKAGE_ROOT / 'config' / 'sim_world.yaml'
BRIDGE_YAML = PACKAGE_ROOT / 'config' / 'gz_bridge.yaml'
SDF_PATH = PACKAGE_ROOT / 'worlds' / 'diff_drive.sdf'
GZ_TYPE_OF_ROS_TYPE = {  # the ros_gz_bridge message mappings the bridge config relies on
    'rosgraph_msgs/msg/Clock': 'gz.msgs.Clock',
    'geometry_msgs/msg/Twist': 'gz.msgs.Twist',
    'nav_msgs/msg/Odometry': 'gz.msgs.Odometry',
    'sensor_msgs/msg/JointState': 'gz.msgs.Model',
    'sensor_msgs/msg/LaserScan': 'gz.msgs.LaserScan',
}
BRIDGE_DIRECTION = {Direction.PUBLISH: 'GZ_TO_ROS', Direction.SUBSCRIBE: 'ROS_TO_GZ'}


@pytest.fixture(scope='module')
def sdf_world() -> ElementTree.Element:
    return ElementTree.parse(SDF_PATH).getroot().find('world')


@pytest.fixture(scope='module')
def robot(sdf_world: ElementTree.Element) -> ElementTree.Element:
    return sdf_world.find(f"model[@name='{ROBOT_MODEL_NAME}']")


@pytest.fixture(scope='module')
def mujoco_model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(build_mjcf(load_world(WORLD_YAML)))


def plugin(robot: ElementTree.Element, filename: str) -> ElementTree.Element:
    found = robot.find(f"plugin[@filename='{filename}']")
    assert found is not None, f'{filename} missing from the robot model'
    return found


def numbers(text: str) -> np.ndarray:
    return np.array([float(value) for value in text.split()])


def test_sdf_is_well_formed_and_current() -> None:
    root = ElementTree.parse(SDF_PATH).getroot()
    assert root.tag == 'sdf' and float(root.get('version')) >= 1.9
    assert SDF_PATH.read_text(encoding='utf-8') == build_sdf(load_world(WORLD_YAML)), \
        'worlds/diff_drive.sdf is stale: run python -m poe_steer_sim.gazebo_world'


def test_world_has_physics_and_a_ground_plane(sdf_world: ElementTree.Element) -> None:
    filenames = {element.get('filename') for element in sdf_world.findall('plugin')}
    assert {'gz-sim-physics-system', 'gz-sim-user-commands-system',
            'gz-sim-scene-broadcaster-system'} <= filenames
    assert sdf_world.find("model[@name='ground_plane']/link/collision/geometry/plane") is not None


def test_robot_systems_use_the_mujoco_nodes_topics_and_frames(
        robot: ElementTree.Element) -> None:
    drive = plugin(robot, 'gz-sim-diff-drive-system')
    assert drive.get('name') == 'gz::sim::systems::DiffDrive'
    assert drive.findtext('topic') == GZ_TOPICS['cmd_vel']
    assert [drive.findtext('left_joint'), drive.findtext('right_joint')] == list(
        WHEEL_JOINT_NAMES)
    odometry = plugin(robot, 'gz-sim-odometry-publisher-system')
    assert odometry.findtext('odom_topic') == GZ_TOPICS['odom']
    assert (odometry.findtext('odom_frame'), odometry.findtext('robot_base_frame')) == (
        ODOM_FRAME, BASE_FRAME)
    assert drive.findtext('odom_topic') != GZ_TOPICS['odom'], 'wheel odometry must not clash'
    joint_states = plugin(robot, 'gz-sim-joint-state-publisher-system')
    assert joint_states.findtext('topic') == GZ_TOPICS['joint_states']
    assert [element.text for element in joint_states.findall('joint_name')] == list(
        WHEEL_JOINT_NAMES)
    for name in WHEEL_JOINT_NAMES:
        joint = robot.find(f"joint[@name='{name}']")
        assert joint.get('type') == 'revolute' and joint.findtext('parent') == 'base_link'


def test_diff_drive_limits_are_the_command_bounds(robot: ElementTree.Element) -> None:
    drive = plugin(robot, 'gz-sim-diff-drive-system')
    low = [float(drive.findtext(f'min_{kind}_velocity')) for kind in ('linear', 'angular')]
    high = [float(drive.findtext(f'max_{kind}_velocity')) for kind in ('linear', 'angular')]
    assert low == COMMAND_LOW.tolist() and high == COMMAND_HIGH.tolist()


def test_wheel_geometry_equals_the_mujoco_models(robot: ElementTree.Element,
                                                 mujoco_model: mujoco.MjModel) -> None:
    data = mujoco.MjData(mujoco_model)
    mujoco.mj_forward(mujoco_model, data)
    radius = mujoco_model.geom('left_wheel_contact').size[0]
    separation = np.linalg.norm(data.xpos[mujoco_model.body('left_wheel').id]
                                - data.xpos[mujoco_model.body('right_wheel').id])
    drive = plugin(robot, 'gz-sim-diff-drive-system')
    assert float(drive.findtext('wheel_radius')) == pytest.approx(radius)
    assert float(drive.findtext('wheel_separation')) == pytest.approx(separation)
    for side, sign in (('left', 1), ('right', -1)):
        link = robot.find(f"link[@name='{side}_wheel']")
        assert numbers(link.findtext('pose'))[1] == pytest.approx(sign * separation / 2)
        assert float(link.findtext('collision/geometry/cylinder/radius')) == pytest.approx(radius)


def test_robot_starts_at_the_worlds_start_pose(robot: ElementTree.Element) -> None:
    start = load_world(WORLD_YAML).start_pose
    pose = numbers(robot.findtext('pose'))
    assert pose[[0, 1, 5]] == pytest.approx([start.x_m, start.y_m, start.yaw_rad])


def test_obstacles_and_walls_equal_the_mujoco_models(sdf_world: ElementTree.Element,
                                                     mujoco_model: mujoco.MjModel) -> None:
    sdf_solids = [model for model in sdf_world.findall('model')
                  if model.get('name').startswith(('obstacle_', 'wall_'))]
    world = load_world(WORLD_YAML)
    assert len(sdf_solids) == len(world.solids()) > 0
    for model in sdf_solids:
        geom = mujoco_model.geom(model.get('name'))
        pose = numbers(model.findtext('pose'))
        assert pose[:3] == pytest.approx(geom.pos.tolist())
        yaw = 2 * np.arctan2(geom.quat[3], geom.quat[0])
        assert pose[5] == pytest.approx(yaw, abs=1e-9)
        shape = model.find('link/collision/geometry')[0]
        if shape.tag == 'cylinder':
            assert geom.type[0] == mujoco.mjtGeom.mjGEOM_CYLINDER
            size = [float(shape.findtext('radius')), float(shape.findtext('length')) / 2]
            assert size == pytest.approx(geom.size[:2].tolist())
        else:
            assert shape.tag == 'box' and geom.type[0] == mujoco.mjtGeom.mjGEOM_BOX
            assert (numbers(shape.findtext('size')) / 2) == pytest.approx(geom.size.tolist())


def test_bridge_mirrors_every_topic_of_the_mujoco_node() -> None:
    entries = yaml.safe_load(BRIDGE_YAML.read_text(encoding='utf-8'))
    bridged = {entry['ros_topic_name']: entry for entry in entries}
    assert set(bridged) == {spec.name for spec in TOPICS.values()}
    for role, spec in TOPICS.items():
        entry = bridged[spec.name]
        assert entry['ros_type_name'] == spec.type_name
        assert entry['gz_type_name'] == GZ_TYPE_OF_ROS_TYPE[spec.type_name]
        assert entry['direction'] == BRIDGE_DIRECTION[spec.direction]
        assert entry['gz_topic_name'] == GZ_TOPICS[role]


def test_lidar_equals_the_mujoco_lidar(sdf_world: ElementTree.Element,
                                       robot: ElementTree.Element) -> None:
    assert sdf_world.find("plugin[@filename='gz-sim-sensors-system']") is not None
    sensor = robot.find("link[@name='base_link']/sensor[@type='gpu_lidar']")
    assert sensor is not None
    assert sensor.findtext('topic') == GZ_TOPICS['scan']
    assert float(sensor.findtext('update_rate')) == LIDAR.rate_hz
    assert numbers(sensor.findtext('pose'))[2] + GEOMETRY.wheel_radius_m == \
        pytest.approx(LIDAR.height_m)
    horizontal = sensor.find('lidar/scan/horizontal')
    angles = LIDAR.geometry().angles()
    assert int(horizontal.findtext('samples')) == LIDAR.rays
    assert float(horizontal.findtext('min_angle')) == pytest.approx(angles[0])
    assert float(horizontal.findtext('max_angle')) == pytest.approx(angles[-1])
    assert float(sensor.findtext('lidar/range/min')) == LIDAR.range_min_m
    assert float(sensor.findtext('lidar/range/max')) == LIDAR.range_max_m
