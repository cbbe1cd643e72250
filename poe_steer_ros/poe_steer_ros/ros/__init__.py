"""The rclpy glue: the steering node, message adapters, parameters and process helpers."""
