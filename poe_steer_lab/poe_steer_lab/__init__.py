"""The lab of poe_steer_ros: training, evaluation, benchmarks, reliability and the demo."""
