"""Test-session settings shared by every test module."""

import os

# Keep this session's DDS traffic to itself: a domain of its own on the loopback interface, so
# parallel sessions and other engineers' nodes on the same machine never cross-talk. Spawned
# node processes inherit both variables.
os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

from ros2_tools import ros2_daemon  # noqa: E402,F401  (fixture of the ros2 tool tests)
