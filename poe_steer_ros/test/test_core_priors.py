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

"""Goal priors: pose and joint attractors, the learned TorchScript prior, external priors."""

import math

from hypothesis import assume, given
from hypothesis import strategies as st
import numpy as np
from poe_steer_ros.core.gaussian import DiagGaussian
from poe_steer_ros.core.interfaces import (BASE_X, BASE_Y, BASE_YAW, joint_position_key,
                                           Space)
from poe_steer_ros.core.priors import (ExternalPrior, GoalPrior, JointAttractorPrior,
                                       LearnedPrior, PathPrior, PlannedPath, PoseAttractorPrior,
                                       PriorConfig, PriorType)
import pytest
import torch

POSE = PoseAttractorPrior(PriorConfig())
COORDINATES = st.floats(-50.0, 50.0)
ANGLES = st.floats(-4.0 * math.pi, 4.0 * math.pi)


def base_state(x: float, y: float, yaw: float) -> dict:
    return {BASE_X: x, BASE_Y: y, BASE_YAW: yaw}


@given(COORDINATES, COORDINATES, ANGLES, st.floats(0.5, 30.0), st.floats(-math.pi, math.pi))
def test_pose_prior_points_at_the_goal_from_every_quadrant(x, y, yaw, distance, direction):
    goal = np.array([x + distance * math.cos(direction), y + distance * math.sin(direction)])
    mean = POSE(base_state(x, y, yaw), goal, np.zeros(0)).mean
    heading = np.array([math.cos(yaw), math.sin(yaw)])
    to_goal = goal - np.array([x, y])
    # Driving with v along the heading never moves away from the goal ...
    assert mean[0] * float(heading @ to_goal) >= -1e-9
    # ... and the turn is toward the goal's bearing.
    bearing = math.atan2(heading[0] * to_goal[1] - heading[1] * to_goal[0],
                         float(heading @ to_goal))
    assume(1e-6 < abs(bearing) < math.pi - 1e-6)
    assert np.sign(mean[1]) == np.sign(bearing)


@given(COORDINATES, COORDINATES, ANGLES, st.floats(-math.pi, math.pi))
def test_pose_prior_is_zero_mean_at_the_goal(x, y, yaw, goal_yaw):
    state = base_state(x, y, yaw)
    np.testing.assert_allclose(POSE(state, np.array([x, y]), np.zeros(0)).mean, 0.0,
                               atol=1e-12)
    np.testing.assert_allclose(POSE(state, np.array([x, y, yaw]), np.zeros(0)).mean, 0.0,
                               atol=1e-9)


@given(ANGLES, st.floats(0.05, 3.0))
def test_pose_prior_turns_to_the_goal_yaw_at_the_goal(yaw, yaw_error):
    state = base_state(1.0, 2.0, yaw)
    for sign in (1.0, -1.0):
        mean = POSE(state, np.array([1.0, 2.0, yaw + sign * yaw_error]), np.zeros(0)).mean
        assert mean[0] == pytest.approx(0.0, abs=1e-12)
        assert np.sign(mean[1]) == sign


@given(COORDINATES, COORDINATES, ANGLES, st.floats(-20.0, 20.0), st.floats(-20.0, 20.0),
       st.floats(-math.pi, math.pi))
def test_pose_prior_is_invariant_to_moving_the_whole_world(x, y, yaw, dx, dy, turn):
    goal = np.array([x + 3.0, y - 1.0, 0.4])
    moved_position = np.array([math.cos(turn) * x - math.sin(turn) * y + dx,
                               math.sin(turn) * x + math.cos(turn) * y + dy])
    moved_goal = np.array([math.cos(turn) * goal[0] - math.sin(turn) * goal[1] + dx,
                           math.sin(turn) * goal[0] + math.cos(turn) * goal[1] + dy,
                           goal[2] + turn])
    original = POSE(base_state(x, y, yaw), goal, np.zeros(0))
    moved = POSE(base_state(*moved_position, yaw + turn), moved_goal, np.zeros(0))
    np.testing.assert_allclose(moved.mean, original.mean, atol=1e-6)
    np.testing.assert_allclose(moved.std, original.std, atol=1e-6)


def test_pose_prior_uncertainty_grows_with_distance_and_heading_error():
    state = base_state(0.0, 0.0, 0.0)
    near = POSE(state, np.array([1.0, 0.0]), np.zeros(0))
    far = POSE(state, np.array([5.0, 0.0]), np.zeros(0))
    beside = POSE(state, np.array([0.0, 5.0]), np.zeros(0))
    assert far.std[0] > near.std[0]
    assert beside.std[1] > far.std[1]
    config = PriorConfig()
    assert near.std[0] == pytest.approx(config.std_linear + config.std_linear_per_m * 1.0)
    assert far.mean[0] == pytest.approx(config.k_linear * 5.0)
    assert beside.mean[1] == pytest.approx(config.k_angular * math.pi / 2.0, rel=1e-6)


def test_pose_prior_rejects_bad_goals_and_missing_state():
    with pytest.raises(ValueError, match='goal for the pose prior'):
        POSE(base_state(0.0, 0.0, 0.0), np.array([1.0]), np.zeros(0))
    with pytest.raises(ValueError, match='goal for the pose prior'):
        POSE(base_state(0.0, 0.0, 0.0), np.array([1.0, np.nan]), np.zeros(0))
    with pytest.raises(KeyError, match='base.yaw'):
        POSE({BASE_X: 0.0, BASE_Y: 0.0}, np.array([1.0, 1.0]), np.zeros(0))


def test_joint_prior_attracts_to_goal_positions():
    config = PriorConfig(type='joint', joint_names=('shoulder', 'elbow'), k_joint=2.0,
                         std_joint=0.1, std_joint_per_rad=0.5)
    prior = JointAttractorPrior(config)
    state = {joint_position_key('shoulder'): 0.5, joint_position_key('elbow'): -0.2}
    gaussian = prior(state, np.array([1.0, -0.2]), np.zeros(0))
    np.testing.assert_allclose(gaussian.mean, [1.0, 0.0])
    np.testing.assert_allclose(gaussian.std, [0.35, 0.1])
    assert gaussian.space is Space.COMMAND and prior.action_dim == 2
    with pytest.raises(ValueError, match='goal for the joint prior'):
        prior(state, np.array([1.0]), np.zeros(0))
    with pytest.raises(KeyError, match='joint.position.elbow'):
        prior({joint_position_key('shoulder'): 0.0}, np.zeros(2), np.zeros(0))
    with pytest.raises(ValueError, match='prior.joint_names'):
        JointAttractorPrior(PriorConfig(type='joint'))


class _GoalConditioned(torch.nn.Module):
    """A tiny goal-conditioned Gaussian head: mean = W [obs, goal], log_std = b."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(5, 2)
        self.log_std = torch.nn.Parameter(torch.tensor([-1.0, -0.5]))

    def forward(self, obs: torch.Tensor, goal: torch.Tensor):
        mean = self.linear(torch.cat([obs, goal], dim=-1))
        return mean, self.log_std.expand_as(mean)


@pytest.mark.filterwarnings('ignore:`torch.jit:DeprecationWarning')
def test_learned_prior_loads_torchscript_and_matches_the_module(tmp_path):
    torch.manual_seed(0)
    module = _GoalConditioned()
    path = tmp_path / 'prior.pt'
    torch.jit.script(module).save(str(path))
    prior = LearnedPrior(path)
    assert isinstance(prior, GoalPrior) and prior.space is Space.PRE_SQUASH
    obs, goal = np.array([0.1, -0.3, 0.7]), np.array([1.0, 2.0])
    gaussian = prior({}, goal, obs)
    with torch.no_grad():
        mean, log_std = module(torch.tensor(obs[None], dtype=torch.float32),
                               torch.tensor(goal[None], dtype=torch.float32))
    np.testing.assert_allclose(gaussian.mean, mean.numpy()[0], rtol=1e-6)
    np.testing.assert_allclose(gaussian.std, np.exp(log_std.detach().numpy()[0]), rtol=1e-6)
    assert LearnedPrior(module, Space.COMMAND).space is Space.COMMAND
    with pytest.raises(FileNotFoundError, match='does not exist'):
        LearnedPrior(tmp_path / 'missing.pt')


def test_external_prior_validates_and_expires():
    gaussian = DiagGaussian(np.zeros(2), np.ones(2), Space.COMMAND)
    prior = ExternalPrior(gaussian, expiry_s=10.0, weight=0.3)
    assert prior.is_valid(9.99) and not prior.is_valid(10.0)
    received = ExternalPrior(gaussian, expiry_s=10.0, received_s=4.0)
    assert received.is_valid(4.0) and not received.is_valid(3.99)
    assert prior({}, np.zeros(2), np.zeros(0)) is gaussian and prior.space is Space.COMMAND
    with pytest.raises(ValueError, match='std >= 1e-06'):
        ExternalPrior(DiagGaussian(np.zeros(2), np.zeros(2)), 1.0)
    with pytest.raises(ValueError, match='weight'):
        ExternalPrior(gaussian, 1.0, weight=1.5)


@pytest.mark.parametrize('changes, field', [
    ({'type': 'magic'}, 'prior.type'),
    ({'k_linear': -1.0}, 'prior.k_linear'),
    ({'std_angular': 0.0}, 'prior.std_angular'),
    ({'goal_radius_m': math.inf}, 'prior.goal_radius_m'),
    ({'std_joint': 'wide'}, 'prior.std_joint'),
    ({'joint_names': ('a', 'a')}, 'prior.joint_names'),
])
def test_prior_config_rejects_bad_values_naming_the_parameter(changes, field):
    with pytest.raises(ValueError, match=field):
        PriorConfig(**changes)


def test_prior_config_coerces_strings_and_integers():
    config = PriorConfig(type='joint', k_joint=2, joint_names=['a', 'b'])
    assert config.type is PriorType.JOINT
    assert isinstance(config.k_joint, float) and config.joint_names == ('a', 'b')


def test_pose_prior_stays_finite_for_a_far_finite_goal() -> None:
    """A goal 1e154 m away once overflowed in the yaw hand-over; the mean must stay finite."""
    prior = PoseAttractorPrior(PriorConfig())
    gaussian = prior({BASE_X: 0.0, BASE_Y: 0.0, BASE_YAW: 0.0}, np.array([3e-124, 1e154]), None)
    assert np.isfinite(gaussian.mean).all() and np.isfinite(gaussian.std).all()


L_PATH = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]])
"""Two metres east, then two metres north: a bend at (2, 0)."""
PATH_PRIOR = PathPrior(PriorConfig(type='path'))


def test_path_prior_aims_down_the_path_not_at_the_goal():
    path = PlannedPath(L_PATH, received_s=0.0)
    state = {BASE_X: 0.5, BASE_Y: 0.0, BASE_YAW: 0.0}
    prior = PATH_PRIOR.gaussian(state, np.array([2.0, 2.0]), path, now_s=0.0)
    pose = PoseAttractorPrior(PriorConfig())(state, np.array([2.0, 2.0]), np.empty(0))
    assert prior.mean[0] > 0.5 and abs(prior.mean[1]) < 1e-9  # straight on along the path
    assert pose.mean[1] > 0.5  # the straight-line prior turns toward the goal
    behind = PATH_PRIOR.gaussian({**state, BASE_YAW: math.pi}, np.array([2.0, 2.0]), path, 0.0)
    assert behind.mean[0] == pytest.approx(0.0) and abs(behind.mean[1]) > 1.0  # turn in place


def test_path_prior_std_is_smallest_at_a_bend_and_grows_off_the_path_and_with_age():
    path = PlannedPath(L_PATH, received_s=0.0)
    goal = np.array([2.0, 2.0])
    straight = PATH_PRIOR.gaussian({BASE_X: 0.3, BASE_Y: 0.0, BASE_YAW: 0.0}, goal, path, 0.0)
    bend = PATH_PRIOR.gaussian({BASE_X: 2.0, BASE_Y: 0.0, BASE_YAW: 0.0}, goal, path, 0.0)
    off = PATH_PRIOR.gaussian({BASE_X: 0.3, BASE_Y: 0.5, BASE_YAW: 0.0}, goal, path, 0.0)
    old = PATH_PRIOR.gaussian({BASE_X: 0.3, BASE_Y: 0.0, BASE_YAW: 0.0}, goal, path, 2.0)
    assert (bend.std < straight.std).all()
    assert (off.std > straight.std).all() and (old.std > straight.std).all()
    config = PriorConfig()
    np.testing.assert_allclose(bend.std, [config.path_std_linear, config.path_std_angular])
    # A staircase along a straight line is not a bend.
    stairs = PlannedPath(np.array([[0.1 * i, 0.1 * (i // 2)] for i in range(30)]), 0.0)
    assert PATH_PRIOR.gaussian({BASE_X: 1.0, BASE_Y: 0.5, BASE_YAW: 0.0},
                               stairs.points[-1], stairs, 0.0).std[1] > 1.5 * bend.std[1]


def test_path_prior_falls_back_to_the_pose_prior():
    state = {BASE_X: 0.5, BASE_Y: 0.0, BASE_YAW: 0.0}
    goal = np.array([2.0, 2.0])
    pose = PoseAttractorPrior(PriorConfig())(state, goal, np.empty(0))
    path = PlannedPath(L_PATH, received_s=10.0)
    timeout = PriorConfig().path_timeout_s
    for missing, when, target in ((None, 10.0, goal), (path, 9.0, goal),
                                  (path, 10.0 + timeout, goal), (path, 10.0, np.array([0., 2.]))):
        assert not PATH_PRIOR.uses(missing, target, when)
        fallback = PATH_PRIOR.gaussian(state, target, missing, when)
        expected = PoseAttractorPrior(PriorConfig())(state, target, np.empty(0))
        np.testing.assert_allclose(fallback.mean, expected.mean)
    assert PATH_PRIOR.uses(path, goal, 10.0)
    np.testing.assert_allclose(pose.mean, PATH_PRIOR.gaussian(state, goal, None, 0.0).mean)
    with pytest.raises(ValueError, match='finite waypoints'):
        PlannedPath(np.array([[0.0, math.nan]]), 0.0)
