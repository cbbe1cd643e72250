"""The ROS-free core: Gaussians, composition rules, selector, actor runtime, priors, safety."""
