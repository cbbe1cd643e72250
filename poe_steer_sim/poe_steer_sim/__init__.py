"""
MuJoCo simulation: ROS-free environments (``world``, ``diff_drive``, ``arm``), the ROS node.

Only ``mujoco_sim_node`` imports rclpy; ``gazebo_world`` generates the equivalent Gazebo world.
"""
