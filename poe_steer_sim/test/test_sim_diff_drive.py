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

"""Differential-drive simulation: physics sanity, command handling, episodes, determinism."""

import math

from hypothesis import given, settings, strategies as st
import mujoco
import numpy as np
from poe_steer_ros.core.interfaces import BASE_KEYS, BASE_V, BASE_W, BASE_X, BASE_Y, BASE_YAW, \
    joint_position_key, joint_velocity_key
from poe_steer_ros.core.scan import ScanBinning
from poe_steer_sim.diff_drive import build_mjcf, COMMAND_HIGH, COMMAND_LOW, DiffDriveEnv, \
    DiffDriveSim, GEOMETRY, LIDAR, WHEEL_JOINT_NAMES, wheel_speeds
from poe_steer_sim.world import Arena, BoxObstacle, CylinderObstacle, default_world, Pose2D, \
    Region2D, World
import pytest

OPEN_WORLD = World(start_pose=Pose2D(), goal_region=Region2D(2.0, 3.0, -1.0, 1.0))


def drive(env: DiffDriveEnv, command: list[float], seconds: float) -> tuple:
    """Step a constant command for ``seconds``; return the last step's results."""
    result = None
    for _ in range(round(seconds / env.control_dt_s)):
        result = env.step(command)
    return result


@pytest.fixture
def open_env() -> DiffDriveEnv:
    env = DiffDriveEnv(OPEN_WORLD, max_episode_s=100.0, seed=0)
    env.reset(options={'goal': [50.0, 0.0]})
    return env


def test_command_bounds_are_the_projects_and_read_only() -> None:
    assert COMMAND_LOW.tolist() == [-0.5, -2.0]
    assert COMMAND_HIGH.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError):
        COMMAND_HIGH[0] = 3.0


def test_wheel_speeds_follow_diff_drive_controller_and_fit_the_motor_limits() -> None:
    left, right = wheel_speeds(0.5, 1.0)
    half_track = GEOMETRY.wheel_separation_m / 2
    assert left == pytest.approx((0.5 - half_track) / GEOMETRY.wheel_radius_m)
    assert right == pytest.approx((0.5 + half_track) / GEOMETRY.wheel_radius_m)
    corners = [wheel_speeds(v, w) for v in (COMMAND_LOW[0], COMMAND_HIGH[0])
               for w in (COMMAND_LOW[1], COMMAND_HIGH[1])]
    assert np.max(np.abs(corners)) < GEOMETRY.max_wheel_speed_rad_s


def test_compiled_model_has_the_declared_geometry() -> None:
    model = mujoco.MjModel.from_xml_string(build_mjcf(default_world()))
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    assert model.geom('left_wheel_contact').size[0] == GEOMETRY.wheel_radius_m
    separation = data.xpos[model.body('left_wheel').id] - data.xpos[model.body('right_wheel').id]
    assert separation == pytest.approx([0.0, GEOMETRY.wheel_separation_m, 0.0])
    assert model.actuator_ctrlrange[0].tolist() == [-GEOMETRY.max_wheel_speed_rad_s,
                                                    GEOMETRY.max_wheel_speed_rad_s]


def test_state_has_the_canonical_keys(open_env: DiffDriveEnv) -> None:
    state, _, _, _, _ = open_env.step([0.3, 0.2])
    wheel_keys = [key(name) for name in WHEEL_JOINT_NAMES
                  for key in (joint_position_key, joint_velocity_key)]
    assert set(state) == set(BASE_KEYS) | set(wheel_keys)
    assert all(type(value) is float for value in state.values())


def test_forward_command_drives_straight_at_the_commanded_speed(open_env: DiffDriveEnv) -> None:
    state, *_ = drive(open_env, [0.5, 0.0], 2.0)
    assert 0.9 < state[BASE_X] < 1.0  # 1 m minus the acceleration phase
    assert abs(state[BASE_Y]) < 1e-3 and abs(state[BASE_YAW]) < 1e-3
    assert state[BASE_V] == pytest.approx(0.5, rel=0.02)
    wheel_speed = 0.5 / GEOMETRY.wheel_radius_m
    for name in WHEEL_JOINT_NAMES:
        assert state[joint_velocity_key(name)] == pytest.approx(wheel_speed, rel=0.02)


def test_reverse_command_drives_backwards(open_env: DiffDriveEnv) -> None:
    state, *_ = drive(open_env, [-0.5, 0.0], 1.0)
    assert state[BASE_X] < -0.3 and state[BASE_V] < -0.45


def test_positive_yaw_rate_turns_left_in_place(open_env: DiffDriveEnv) -> None:
    state, *_ = drive(open_env, [0.0, 1.0], 1.0)
    assert state[BASE_YAW] == pytest.approx(1.0, abs=0.1)
    assert state[BASE_W] == pytest.approx(1.0, rel=0.03)
    assert math.hypot(state[BASE_X], state[BASE_Y]) < 0.02
    left, right = (state[joint_velocity_key(name)] for name in WHEEL_JOINT_NAMES)
    assert right > 0 > left


@settings(max_examples=8, deadline=None)
@given(v=st.floats(min_value=-0.5, max_value=1.0), w=st.floats(min_value=-2.0, max_value=2.0))
def test_steady_body_twist_tracks_any_command_within_bounds(v: float, w: float) -> None:
    env = DiffDriveEnv(OPEN_WORLD, max_episode_s=100.0)
    env.reset(options={'goal': [50.0, 0.0]})
    state, *_ = drive(env, [v, w], 1.5)
    assert state[BASE_V] == pytest.approx(v, abs=0.03)
    assert state[BASE_W] == pytest.approx(w, abs=0.06)


def test_base_stops_when_the_command_goes_to_zero(open_env: DiffDriveEnv) -> None:
    drive(open_env, [1.0, 1.0], 1.0)
    state, *_ = drive(open_env, [0.0, 0.0], 0.5)
    assert abs(state[BASE_V]) < 0.01 and abs(state[BASE_W]) < 0.01


def test_commands_are_clipped_to_the_bounds() -> None:
    clipped, exact = (DiffDriveEnv(OPEN_WORLD, max_episode_s=100.0) for _ in range(2))
    for env in (clipped, exact):
        env.reset(options={'goal': [50.0, 0.0]})
    for _ in range(10):
        state, _, _, _, info = clipped.step([5.0, -9.0])
        reference, *_ = exact.step([1.0, -2.0])
    assert info['command'].tolist() == [1.0, -2.0]
    assert state == reference


@pytest.mark.parametrize('command', [[math.nan, 0.0], [0.0, math.inf], [1.0], [[0.0, 0.0]]])
def test_non_finite_or_misshapen_commands_are_rejected(open_env: DiffDriveEnv,
                                                       command: list) -> None:
    with pytest.raises(ValueError, match='command'):
        open_env.step(command)


def test_collision_with_an_obstacle_terminates_with_a_penalty() -> None:
    env = DiffDriveEnv(default_world(), seed=0)
    env.reset(options={'goal': [3.0, 0.0]})
    for _ in range(100):
        state, reward, terminated, truncated, info = env.step([1.0, 0.0])
        if terminated:
            break
    assert terminated and info['collision'] and not info['reached'] and not truncated
    assert reward < -0.9
    cylinder = default_world().obstacles[0]
    chassis_front = state[BASE_X] + GEOMETRY.chassis_length_m / 2
    assert chassis_front == pytest.approx(cylinder.x_m - cylinder.radius_m, abs=0.03)
    assert env.sim.collision_count >= 1


def test_reaching_the_goal_terminates() -> None:
    env = DiffDriveEnv(OPEN_WORLD, seed=0, goal_tolerance_m=0.25)
    _, info = env.reset(options={'goal': [1.0, 0.0]})
    assert not info['reached']
    for _ in range(100):
        state, _, terminated, _, info = env.step([0.5, 0.0])
        if terminated:
            break
    assert terminated and info['reached'] and not info['collision']
    assert info['distance'] <= 0.25
    assert state[BASE_X] == pytest.approx(0.75, abs=0.03)


def test_rewards_add_up_to_the_progress_toward_the_goal(open_env: DiffDriveEnv) -> None:
    _, info = open_env.reset(options={'goal': [2.0, 1.0]})
    rng = np.random.default_rng(1)
    total = 0.0
    for _ in range(40):
        _, reward, terminated, _, step_info = open_env.step(rng.uniform(COMMAND_LOW, COMMAND_HIGH))
        total += reward
        assert not step_info['collision']
        if terminated:
            break
    assert total == pytest.approx(info['distance'] - step_info['distance'], abs=1e-9)


def test_episode_is_truncated_after_max_episode_s() -> None:
    env = DiffDriveEnv(OPEN_WORLD, control_dt_s=0.05, max_episode_s=1.0)
    env.reset(options={'goal': [50.0, 0.0]})
    flags = [env.step([0.0, 0.5])[3] for _ in range(20)]
    assert flags == [False] * 19 + [True]
    assert env.elapsed_s == pytest.approx(1.0)


def test_same_seed_same_goals_and_trajectories() -> None:
    runs = []
    for seed in (7, 7, 8):
        env = DiffDriveEnv(default_world(), seed=seed)
        goals, poses = [], []
        for episode in range(3):
            env.reset()
            goals.append(env.goal)
            for step in range(15):
                state, *_ = env.step([0.6, math.sin(step + episode)])
            poses.append((state[BASE_X], state[BASE_Y], state[BASE_YAW]))
        runs.append((np.array(goals), poses))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_reset_seed_restarts_the_goal_stream() -> None:
    env = DiffDriveEnv(default_world())
    env.reset(seed=11)
    first = env.goal
    env.reset()
    env.reset(seed=11)
    np.testing.assert_array_equal(env.goal, first)


def test_reset_options_set_goal_and_start_pose() -> None:
    env = DiffDriveEnv(default_world())
    state, info = env.reset(options={'goal': [3.0, 0.5], 'start_pose': (-0.5, 1.0, 0.4)})
    assert (state[BASE_X], state[BASE_Y], state[BASE_YAW]) == (-0.5, 1.0, 0.4)
    np.testing.assert_array_equal(env.goal, [3.0, 0.5])
    assert info['distance'] == pytest.approx(math.hypot(3.5, 0.5))
    state, _ = env.reset(options={'start_pose': Pose2D(1.0, 1.5, -2.0)})
    assert (state[BASE_X], state[BASE_Y], state[BASE_YAW]) == (1.0, 1.5, -2.0)


@pytest.mark.parametrize('options, message', [
    ({'goal': [1.0]}, 'goal must be 2 finite numbers'),
    ({'goal': [1.0, math.nan]}, 'goal must be 2 finite numbers'),
    ({'start_pose': (0.0, 0.0)}, 'start_pose must be'),
    ({'speed': 1.0}, "unknown reset options ['speed']"),
])
def test_bad_reset_options_are_rejected(options: dict, message: str) -> None:
    env = DiffDriveEnv(default_world())
    with pytest.raises(ValueError) as error:
        env.reset(options=options)
    assert message in str(error.value)


def test_step_before_reset_is_an_error() -> None:
    with pytest.raises(RuntimeError, match='reset'):
        DiffDriveEnv(default_world()).step([0.0, 0.0])


@pytest.mark.parametrize('kwargs, name', [
    ({'control_dt_s': 0.0123}, 'control_dt_s'),
    ({'max_episode_s': 0.0}, 'max_episode_s'),
    ({'goal_tolerance_m': -1.0}, 'goal tolerance'),
    ({'physics_dt_s': 0.1}, 'physics_dt_s'),
])
def test_bad_constructor_arguments_name_themselves(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        DiffDriveEnv(default_world(), **kwargs)


def test_sim_time_never_goes_backwards_across_resets() -> None:
    sim = DiffDriveSim(default_world())
    sim.set_command([0.5, 0.0])
    sim.advance(100)
    before = sim.time_s
    sim.reset(Pose2D())
    assert sim.time_s == before == pytest.approx(0.5)
    assert sim.state()[BASE_X] == 0.0 and not sim.touching


def test_lidar_ranges_match_known_geometry() -> None:
    arena = Arena(-2.0, 3.0, -1.0, 4.0)
    world = World(Pose2D(), Region2D(0.5, 1.0, 0.5, 1.0),
                  (CylinderObstacle(2.0, 0.0, 0.5), BoxObstacle(0.0, -0.75, 1.0, 0.5)), arena)
    sim = DiffDriveSim(world)
    ranges = sim.scan_ranges()
    bearings = LIDAR.geometry().angles()

    def at(bearing: float) -> float:
        return float(ranges[np.argmin(np.abs(np.remainder(bearings - bearing + math.pi,
                                                          2 * math.pi) - math.pi))])

    assert at(0.0) == pytest.approx(1.5, abs=1e-6)          # cylinder side
    assert at(math.pi / 2) == pytest.approx(4.0, abs=1e-6)   # north wall at the range limit
    assert at(math.pi) == pytest.approx(2.0, abs=1e-6)       # west wall
    assert at(-math.pi / 2) == pytest.approx(0.5, abs=1e-6)  # box's near face
    sim.reset(Pose2D(0.0, 0.0, math.pi / 2))                 # turn left: scan turns with it
    assert sim.scan_ranges()[np.argmin(np.abs(bearings))] == pytest.approx(4.0, abs=1e-6)
    sim.reset(Pose2D(0.0, -0.2, 0.0))
    left = np.argmin(np.abs(bearings - math.pi / 2))
    assert math.isinf(sim.scan_ranges()[left])  # the north wall is 4.2 m away


def test_env_state_holds_scan_features_only_when_asked() -> None:
    world = World(Pose2D(), Region2D(0.5, 1.0, 0.5, 1.0), (CylinderObstacle(1.0, 0.0, 0.5),))
    state, _ = DiffDriveEnv(world, scan=ScanBinning(4, 2.0)).reset(options={'goal': [0.0, 1.0]})
    assert [state[f'scan.{i}'] for i in range(4)] == pytest.approx([0.25, 1.0, 1.0, 1.0])
    plain, _ = DiffDriveEnv(world).reset(options={'goal': [0.0, 1.0]})
    assert not any(key.startswith('scan.') for key in plain)
