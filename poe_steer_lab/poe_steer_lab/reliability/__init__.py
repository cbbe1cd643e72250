"""
Reliability and security of the steering node: fuzzing, soak and faults against real processes.

``python -m poe_steer_lab.reliability`` (``make reliability``) runs the whole campaign and writes
docs/reliability.md; ``test/test_reliability_*.py`` run small subsets of the same code.
"""
