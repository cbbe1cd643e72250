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
Closed loop through DDS: the MuJoCo simulator and the steering node as separate processes.

Both are started from the node tables of ``launch/sim_mujoco.launch.py`` and
``launch/steer.launch.py`` (same executables, parameter files and remaps); goals and steering
settings change through the SetParameters service, exactly as ``ros2 param set`` changes them.
The demo and the closed-loop tests use this harness; it records the trajectory (odometry, sim
time) and every status message.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Callable, Mapping, Sequence

from nav_msgs.msg import Odometry
import numpy as np
from poe_steer_lab.ros.client import RosClient
from poe_steer_lab.ros.processes import (discovery_profile_environment, launch_table, NodeProcess,
                                         ros_arguments, share_file)
from poe_steer_msgs.msg import SteeringStatus
from poe_steer_ros.core.interfaces import BASE_X, BASE_Y, BASE_YAW
from poe_steer_ros.ros.adapters import odometry_to_state, time_to_seconds
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile
from rosgraph_msgs.msg import Clock
from std_msgs.msg import UInt32
from std_srvs.srv import Trigger

STEER_NODE = '/poe_steer'
SIM_NODE = '/mujoco_sim'


class ClosedLoopError(RuntimeError):
    """The closed loop could not be brought up or driven; the text says why."""


@dataclasses.dataclass(frozen=True)
class Sample:
    """One odometry sample: sim time (s) and planar pose (m, m, rad)."""

    time_s: float
    x: float
    y: float
    yaw: float


@dataclasses.dataclass(frozen=True)
class Segment:
    """What happened while one goal and one set of steering settings were in force."""

    name: str
    goal: tuple[float, ...]
    settings: Mapping[str, object]
    samples: tuple[Sample, ...]
    statuses: tuple[SteeringStatus, ...]
    tolerance_m: float
    collisions: int
    """Contacts of the base with obstacles or walls during the segment (simulator count)."""

    @property
    def distances(self) -> np.ndarray:
        """Distance to the goal at each sample, m."""
        points = np.array([(s.x, s.y) for s in self.samples]).reshape(-1, 2)
        return np.hypot(points[:, 0] - self.goal[0], points[:, 1] - self.goal[1])

    @property
    def time_to_goal_s(self) -> float:
        """Sim seconds from the segment start to the first sample within tolerance (inf: never)."""
        reached = np.flatnonzero(self.distances <= self.tolerance_m)
        if not reached.size:
            return math.inf
        return self.samples[reached[0]].time_s - self.samples[0].time_s

    @property
    def succeeded(self) -> bool:
        """Reached the goal within tolerance without touching anything."""
        return self.time_to_goal_s < math.inf and self.collisions == 0

    @property
    def final_error_m(self) -> float:
        """Distance to the goal at the end of the segment, m."""
        return float(self.distances[-1]) if self.samples else math.inf

    @property
    def closest_m(self) -> float:
        """Closest approach to the goal during the segment, m."""
        return float(self.distances.min()) if self.samples else math.inf

    @property
    def mean_prior_weight(self) -> float:
        """Mean effective prior weight over ticks and action dimensions (NaN without ticks)."""
        weights = [np.mean(s.effective_prior_weight) for s in self.statuses
                   if len(s.effective_prior_weight)]
        return float(np.mean(weights)) if weights else math.nan

    @property
    def mean_kl(self) -> float:
        """Mean KL(composed || actor) per tick, nats (NaN without ticks)."""
        values = [s.kl_to_actor for s in self.statuses if len(s.effective_prior_weight)]
        return float(np.mean(values)) if values else math.nan


class ClosedLoop:
    """
    The simulator and the steering node as processes, driven from this process.

    :param log_dir: where both processes' output goes.
    :param steer_parameters: ``-p`` overrides of the steering node (on top of config/steer.yaml).
    :param real_time_factor: simulated seconds per wall second.
    :param steer_params_file: the steering node's parameter file (default config/steer.yaml).
    :param world_file: the world of the simulator and the planner (default: theirs).
    """

    def __init__(self, log_dir: Path, steer_parameters: Mapping[str, object] | None = None,
                 real_time_factor: float = 1.0, steer_params_file: Path | None = None,
                 world_file: Path | None = None) -> None:
        self.log_dir = Path(log_dir)
        sim, steer = launch_table('sim_mujoco.launch.py'), launch_table('steer.launch.py')
        discovery = discovery_profile_environment()
        sim_params = share_file(*sim.SIM_PARAMS_FILE, package=sim.PACKAGE)
        world = {} if world_file is None else {'world_file': str(world_file)}
        self.sim = NodeProcess(sim.SIM_EXECUTABLE, ros_arguments(
            params_file=sim_params, parameters={'real_time_factor': real_time_factor, **world}),
            self.log_dir / 'mujoco_sim.log', package=sim.PACKAGE, env=discovery)
        self.planner = NodeProcess(sim.PLANNER_EXECUTABLE, ros_arguments(
            params_file=sim_params, parameters={'use_sim_time': True, **world}),
            self.log_dir / 'path_planner.log', package=sim.PACKAGE, env=discovery)
        self.steer = NodeProcess(steer.EXECUTABLE, ros_arguments(
            params_file=steer_params_file or share_file(*steer.DEFAULT_PARAMS_FILE),
            parameters={'use_sim_time': True, **(steer_parameters or {})},
            remaps=dict(steer.REMAPPINGS)), self.log_dir / 'steer_node.log', env=discovery)
        self.client: RosClient | None = None
        self._samples: list[Sample] = []
        self._statuses: list[SteeringStatus] = []
        self._sim_time_s = 0.0
        self._collisions = 0
        self._collision_counter = 0

    # Life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> 'ClosedLoop':
        self.sim.start()
        self.planner.start()
        self.steer.start()
        self.client = RosClient('closed_loop_driver')
        node = self.client.node
        node.create_subscription(Odometry, 'odom', self._on_odometry, qos_profile_sensor_data)
        node.create_subscription(SteeringStatus, f'{STEER_NODE}/status', self._statuses.append,
                                 10)
        node.create_subscription(Clock, '/clock', self._on_clock, qos_profile_sensor_data)
        node.create_subscription(UInt32, f'{SIM_NODE}/collision_count', self._on_collisions,
                                 QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL))
        if not self.client.spin_until(lambda: bool(self._statuses and self._samples), 60.0):
            self.__exit__()
            raise ClosedLoopError(
                'no status or odometry within 60 s.\n--- steer_node ---\n'
                f'{self.steer.output()[-3000:]}\n--- mujoco_sim ---\n{self.sim.output()[-3000:]}')
        return self

    def __exit__(self, *_exc: object) -> None:
        self.steer.stop()
        self.planner.stop()
        self.sim.stop()
        if self.client is not None:
            self.client.close()
            self.client = None

    def _on_odometry(self, message: Odometry) -> None:
        state = odometry_to_state(message)
        self._samples.append(Sample(time_to_seconds(message.header.stamp), state[BASE_X],
                                    state[BASE_Y], state[BASE_YAW]))

    def _on_collisions(self, message: UInt32) -> None:
        """Count new contacts; the simulator's counter is cumulative and restarts at zero."""
        if message.data > self._collision_counter:
            self._collisions += message.data - self._collision_counter
        self._collision_counter = message.data

    def _on_clock(self, message: Clock) -> None:
        self._sim_time_s = time_to_seconds(message.clock)

    # Driving ------------------------------------------------------------------------------

    @property
    def sim_time_s(self) -> float:
        """Latest simulated time seen on /clock, s."""
        return self._sim_time_s

    @property
    def statuses(self) -> Sequence[SteeringStatus]:
        """Every status received so far."""
        return tuple(self._statuses)

    @property
    def position(self) -> tuple[float, float]:
        """Latest planar position of the base, m."""
        return self._samples[-1].x, self._samples[-1].y

    def _client(self) -> RosClient:
        if self.client is None:
            raise ClosedLoopError('the closed loop is not running (use it in a with block)')
        return self.client

    def set_parameters(self, values: Mapping[str, object]) -> None:
        """Set steering parameters as ``ros2 param set`` does; raise if any is rejected."""
        results = self._client().set_parameters(STEER_NODE, dict(values))
        rejected = [f'{name}: {result.reason}' for name, result in zip(values, results)
                    if not result.successful]
        if rejected:
            raise ClosedLoopError(f'parameters rejected: {rejected}')

    def reset_robot(self) -> None:
        """Put the base back at the world's start pose (the simulator's ~/reset service)."""
        response = self._client().call(Trigger, f'{SIM_NODE}/reset', Trigger.Request())
        if not response.success:
            raise ClosedLoopError(f'reset failed: {response.message}')

    def run(self, duration_s: float, until: Callable[[], bool] | None = None,
            wall_timeout_s: float = 600.0) -> None:
        """Let ``duration_s`` of simulated time pass, or stop early once ``until()`` holds."""
        end = self._sim_time_s + duration_s
        client = self._client()
        finished = client.spin_until(
            lambda: self._sim_time_s >= end or (until is not None and until()), wall_timeout_s)
        if not finished:
            raise ClosedLoopError(f'simulated time did not reach {end:.1f} s within '
                                  f'{wall_timeout_s} s of wall time')

    def segment(self, name: str, goal: Sequence[float], settings: Mapping[str, object],
                duration_s: float, tolerance_m: float = 0.3, reset: bool = False,
                stop_at_goal: bool = True) -> Segment:
        """
        Apply ``settings`` and ``goal`` through parameters, drive, and record what happened.

        :param reset: start at rest at the start pose: clear the goal (the node then sends its
            safe command), reset the simulated base, and only then set the new goal.
        :param stop_at_goal: end the segment once the base is within ``tolerance_m``.
        """
        if reset:
            self.set_parameters({'goal': []})
            self.run(0.3)
            self.reset_robot()
            self.run(0.3)
        self.set_parameters(dict(settings))
        first_sample, first_status = len(self._samples), len(self._statuses)
        first_collisions = self._collisions
        self.set_parameters({'goal': [float(value) for value in goal]})

        def at_goal() -> bool:
            x, y = self.position
            return stop_at_goal and math.hypot(x - goal[0], y - goal[1]) <= tolerance_m
        self.run(duration_s, until=at_goal)
        return Segment(name, tuple(goal), dict(settings), tuple(self._samples[first_sample:]),
                       tuple(self._statuses[first_status:]), tolerance_m,
                       self._collisions - first_collisions)
