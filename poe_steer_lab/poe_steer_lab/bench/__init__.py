"""Benchmarks of the core, the actor runtime, the simulation and the node through DDS."""
