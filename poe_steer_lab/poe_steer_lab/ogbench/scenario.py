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
PointMaze as a scenario of the evaluation protocol: goals are OGBench's five tasks.

A cell's "shift" is an OGBench task id: task 1 is the actor's training task, the others are the
retargeting the priors must achieve. An episode is OGBench's evaluation episode of that task
(``reset(options={'task_id': ...})``: the task's start and goal cells with ogbench's own
jitter), at most ``max_steps`` steps, ending at success; its return is the task's single-task
return (reward ``success - 1`` per step). Episode seeds derive from (seed, task, index), and the
environment's generators (numpy's global one, which ogbench jitters with, and the action space's)
are reseeded per episode, so every rule plays the same episodes.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
from poe_steer_lab.eval.priors import ExpertPrior
from poe_steer_lab.eval.protocol import EvalConfig, telemetry_means
from poe_steer_lab.offline.rollout import SteererPolicy
from poe_steer_lab.ogbench.maze import make_env, MazeGrid
from poe_steer_ros.core.gaussian import ActionScale
from poe_steer_ros.core.interfaces import array_key, RobotState

OGBENCH_EVAL_STEPS = 1000
"""OGBench's evaluation episode length (``max_episode_steps`` of the PointMaze envs)."""


def point_state(ob: np.ndarray) -> dict[str, float]:
    """Return the robot state the Steerer reads: the observation's slots as ``array.<i>``."""
    return {array_key(index): float(value) for index, value in enumerate(ob)}


def position(state: RobotState) -> np.ndarray:
    """Return the point's xy from a robot state."""
    return np.array([state[array_key(0)], state[array_key(1)]])


@functools.lru_cache(maxsize=None)
def _env(maze: str) -> Any:
    return make_env(maze)


@functools.lru_cache(maxsize=None)
def _grid(maze: str) -> MazeGrid:
    return MazeGrid(_env(maze))


def episode_seeds(seed: int, task: int, count: int) -> list[int]:
    """Return the episode seeds of one (seed, task): the same for every actor, prior and rule."""
    state = np.random.SeedSequence([seed, task]).generate_state(count)
    return [int(value % (2**31 - 1)) for value in state]


@dataclasses.dataclass(frozen=True)
class PointMazeScenario:
    """OGBench PointMaze (``pointmaze-<maze>-v0``) with its BFS oracle as the prior's expert."""

    maze: str
    max_steps: int = OGBENCH_EVAL_STEPS

    def oracle(self, scale: ActionScale, std: float) -> ExpertPrior:
        """Return the noise-free oracle action (unit step toward the next BFS subgoal)."""
        grid = _grid(self.maze)
        return ExpertPrior(lambda state, goal: grid.direction(position(state), goal), scale, std)

    def play(self, policy: SteererPolicy, shift: float, seed: int,
             config: EvalConfig) -> list[tuple[float, ...]]:
        """Play task ``int(shift)``'s episodes: the fields of ``EPISODE_FIELDS`` per episode."""
        env, task = _env(self.maze), int(shift)
        rows = []
        for episode_seed in episode_seeds(seed, task, config.episodes_per_seed):
            np.random.seed(episode_seed)
            env.action_space.seed(episode_seed)
            ob, _ = env.reset(seed=episode_seed, options={'task_id': task})
            goal = np.array(env.cur_goal_xy, dtype=np.float64)
            start_distance = float(np.linalg.norm(goal - ob[:2]))
            policy.start_episode(episode_seed)
            episode_return, success, steps = 0.0, 0.0, 0
            while steps < self.max_steps and not success:
                action = policy(point_state(ob), goal, steps * env.dt)
                ob, _, _, _, info = env.step(action)
                success = info['success']
                episode_return += success - 1.0
                steps += 1
            rows.append((episode_return, success, 0.0, steps, start_distance,
                         *telemetry_means(policy.telemetry)))
        return rows
