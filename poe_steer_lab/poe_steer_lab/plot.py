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

"""Draw a world (obstacles, walls, training goal region) under trajectories with matplotlib."""

from __future__ import annotations

import math
from typing import Any

from matplotlib import patches
from poe_steer_sim.world import BoxObstacle, CylinderObstacle, World


def draw_world(axes: Any, world: World) -> None:
    """Draw obstacles, arena walls and the training goal region on ``axes`` (metres, odom)."""
    region = world.goal_region
    axes.add_patch(patches.Rectangle(
        (region.x_min_m, region.y_min_m), region.x_max_m - region.x_min_m,
        region.y_max_m - region.y_min_m, color='tab:green', alpha=0.12,
        label='training goal region'))
    for solid in world.solids():
        if isinstance(solid, CylinderObstacle):
            axes.add_patch(patches.Circle((solid.x_m, solid.y_m), solid.radius_m, color='0.45'))
        elif isinstance(solid, BoxObstacle):
            axes.add_patch(patches.Rectangle(
                (solid.x_m - solid.size_x_m / 2.0, solid.y_m - solid.size_y_m / 2.0),
                solid.size_x_m, solid.size_y_m, angle=math.degrees(solid.yaw_rad),
                rotation_point='center', color='0.45'))
    if world.arena is not None:
        margin = world.arena.wall_thickness_m
        axes.set_xlim(world.arena.x_min_m - margin, world.arena.x_max_m + margin)
        axes.set_ylim(world.arena.y_min_m - margin, world.arena.y_max_m + margin)
    start = world.start_pose
    axes.plot(start.x_m, start.y_m, marker='o', color='k', label='start')
    axes.set_aspect('equal')
    axes.set_xlabel('x (m, odom)')
    axes.set_ylabel('y (m, odom)')
