#!/usr/bin/env bash
# Builds the development workspace from nothing: a project-local venv with the pinned ROS 2
# Kilted wheels and ML stack (requirements.txt), then both packages with colcon.
# Idempotent: pip runs only when the requirement files changed, and colcon only rebuilds what
# changed. Nothing is written outside the repository.
#
#   scripts/bootstrap.sh setup   # venv + pinned packages
#   scripts/bootstrap.sh build   # setup, then colcon build (default)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PYTHON=${PYTHON:-python3}
STAMP="$VENV/.requirements.sha256"
step=${1:-build}

log() { printf '[bootstrap] %s\n' "$*"; }

check_machine() {
  local arch version
  arch=$(uname -m)
  if [ "$arch" != x86_64 ]; then
    log "the ROS 2 PyPI wheels exist for x86_64 only (this machine: $arch)."
    log "on this machine use an apt-installed ROS 2 instead: see README.md, 'On a robot'."
    exit 1
  fi
  version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  case "$version" in
    3.10|3.11|3.12|3.13|3.14) ;;
    *) log "Python $version found as $PYTHON; the ROS 2 wheels need 3.10 to 3.14 (set PYTHON=...)"; exit 1 ;;
  esac
  command -v cmake >/dev/null || { log "cmake is missing: apt-get install cmake g++ make"; exit 1; }
  command -v g++ >/dev/null || { log "a C++ compiler is missing: apt-get install g++"; exit 1; }
}

requirements_hash() {
  cat "$ROOT/requirements.txt" "$ROOT/requirements-robot.txt" | sha256sum | cut -d' ' -f1
}

setup_venv() {
  check_machine
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  # colcon must not discover the package.xml files the ROS wheels install under .venv/share.
  touch "$VENV/COLCON_IGNORE"
  if [ "$(cat "$STAMP" 2>/dev/null)" != "$(requirements_hash)" ]; then
    log "installing pinned packages (requirements.txt); a cold install takes a few minutes"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'setuptools==79.0.1'
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements.txt"
    "$VENV/bin/python" -m pip check
    requirements_hash > "$STAMP"
  else
    log "pinned packages are up to date"
  fi
}

build_workspace() {
  # shellcheck source=/dev/null
  . "$VENV/bin/activate"
  export AMENT_PREFIX_PATH="$VIRTUAL_ENV"
  cd "$ROOT"
  log "colcon build"
  colcon --log-base "$ROOT/log" build \
    --base-paths "$ROOT/poe_steer_msgs" "$ROOT/poe_steer_ros" "$ROOT/poe_steer_sim" "$ROOT/poe_steer_lab" \
    --build-base "$ROOT/build" --install-base "$ROOT/install" \
    --symlink-install --event-handlers console_cohesion- summary+ \
    --cmake-args -DCMAKE_PROJECT_INCLUDE="$ROOT/cmake/ros_wheels_path_fix.cmake" \
      -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=ON
}

case "$step" in
  setup) setup_venv ;;
  build) setup_venv; build_workspace ;;
  *) log "usage: $0 [setup|build]"; exit 2 ;;
esac
