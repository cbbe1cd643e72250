# Entry points of poe_steer_ros's development workspace. Every target sets up what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
WITH_ENV := source scripts/env.sh &&
DISTROS ?= kilted jazzy

.PHONY: help setup build test lint demo bench eval ogbench reliability reach clean

help:  ## List the targets.
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup:  ## Project venv with the pinned ROS 2 wheels and ML stack (idempotent).
	scripts/bootstrap.sh setup

build:  ## setup, then colcon build of every package.
	scripts/bootstrap.sh build

test:  ## Every test of every package on ROS 2 Kilted (numpy 2) and Jazzy (numpy 1.26); fails on any failure.
	scripts/bootstrap.sh build $(DISTROS)
	scripts/run_tests.sh --distros "$(DISTROS)" $(PYTEST_ARGS)

lint: build  ## ament_flake8 and ament_pep257 over the Python packages, mypy --strict over the runtime.
	$(WITH_ENV) ament_flake8 poe_steer_ros poe_steer_sim poe_steer_lab && ament_pep257 poe_steer_ros poe_steer_sim poe_steer_lab
	$(WITH_ENV) cd poe_steer_ros && mypy poe_steer_ros

linecount:  ## Lines per package and the import graph between packages (docs/ARCHITECTURE.md).
	python3 scripts/architecture_facts.py --check

demo: build  ## The main job: simulation + default frozen actor + live goal changes.
	$(WITH_ENV) python -m poe_steer_lab.cli demo

bench: build  ## Benchmarks; writes docs/benchmarks.md and its plots.
	$(WITH_ENV) python -m poe_steer_lab.cli bench

eval: build  ## The paper's evaluation protocol; writes docs/results.md and its plots.
	$(WITH_ENV) python -m poe_steer_lab.cli eval

reach: build  ## Goal-grid benchmark on the default and moved-obstacle worlds; writes docs/reach.md.
	$(WITH_ENV) python -m poe_steer_lab.cli reach $(REACH_ARGS)

ogbench: build  ## The protocol on OGBench PointMaze (datasets regenerated here); writes docs/ogbench.md.
	$(WITH_ENV) python -m poe_steer_lab.cli ogbench

reliability: build  ## Fuzz, soak and faults of the steering node; writes docs/reliability.md.
	$(WITH_ENV) python -m poe_steer_lab.cli reliability

clean:  ## Remove the colcon spaces (the venvs stay).
	rm -rf build install log build-jazzy install-jazzy log-jazzy
