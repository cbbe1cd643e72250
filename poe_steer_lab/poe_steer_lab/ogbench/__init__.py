"""An external benchmark: the evaluation protocol on OGBench PointMaze."""
