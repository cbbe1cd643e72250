#!/usr/bin/env bash
# Builds the development workspace from nothing, per ROS 2 distribution: a project-local venv
# with the pinned ROS 2 wheels and ML stack, then every package with colcon.
#   kilted: .venv (requirements.txt: Kilted, numpy 2), build/ install/ log/
#   jazzy:  .venv-jazzy (requirements-jazzy.txt: Jazzy, numpy 1.26, then the robot route's
#           pip step, then requirements-dev.txt), build-jazzy/ install-jazzy/ log-jazzy/
# Then, when ../shared/ros2-tools (upstream ros2cli, launch, launch_ros) is beside the repository
# and no apt ROS 2 provides them, the real `ros2` CLI and `launch` for the distribution's venv:
#   kilted: rolling sources -> build/ros2-tools-rolling;  jazzy: jazzy sources -> build/ros2-tools-jazzy
# which scripts/env.sh sources and the tool tests need (without them those tests skip).
# Idempotent: pip runs only when the requirement files changed, colcon only rebuilds what
# changed, and the tools build once per (venv, sources). Nothing is written outside the
# repository.
#
#   scripts/bootstrap.sh setup [DISTRO...]   # venv + pinned packages (default: kilted)
#   scripts/bootstrap.sh build [DISTRO...]   # setup, then colcon build (default: kilted)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
DISTROS=(kilted jazzy)

log() { printf '[bootstrap] %s\n' "$*"; }

# Where each distribution's venv and colcon spaces live (scripts/env.sh reads the same names).
venv_of() { if [ "$1" = kilted ]; then echo "$ROOT/.venv"; else echo "$ROOT/.venv-$1"; fi; }
space_of() { if [ "$2" = kilted ]; then echo "$ROOT/$1"; else echo "$ROOT/$1-$2"; fi; }

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

# The requirement files a distribution's venv is made from, in install order.
requirement_files() {
  case "$1" in
    kilted) echo requirements.txt requirements-dev.txt requirements-robot.txt requirements-lab.txt ;;
    jazzy) echo requirements-jazzy.txt requirements-dev.txt requirements-robot.txt requirements-lab.txt ;;
    *) log "unknown distribution $1 (known: ${DISTROS[*]})"; exit 2 ;;
  esac
}

requirements_hash() {
  local file
  for file in $(requirement_files "$1"); do cat "$ROOT/$file"; done | sha256sum | cut -d' ' -f1
}

pip_install() {
  local venv=$1
  shift
  # Quiet, less this machine's notes on pip.conf's find-links folders that do not exist.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "^WARNING: Location 'file:.*' is ignored" || true; }
}

numpy_version() { "$1/bin/python" -c 'import numpy; print(numpy.__version__)'; }

# What a robot with an apt ROS 2 runs (README.md, "On a robot"): requirements-robot.txt over the
# distribution's numpy. Fails if pip changed that numpy or the requirements pull in torch.
robot_route_pip_step() {
  local venv=$1 numpy_before
  numpy_before=$(numpy_version "$venv")
  log "robot route: pip install -r requirements-robot.txt over numpy $numpy_before"
  pip_install "$venv" -r "$ROOT/requirements-robot.txt"
  "$venv/bin/python" "$ROOT/poe_steer_lab/poe_steer_lab/bench/install_size.py" \
    "$ROOT/requirements-robot.txt" --refuse torch --numpy "$numpy_before"
}

install_requirements() {
  local venv=$1 distro=$2
  case "$distro" in
    kilted)
      pip_install "$venv" 'setuptools==79.0.1'
      pip_install "$venv" -r "$ROOT/requirements.txt"
      ;;
    jazzy)
      local numpy_pinned
      pip_install "$venv" -r "$ROOT/requirements-jazzy.txt"  # stands in for apt's ROS 2 Jazzy
      numpy_pinned=$(numpy_version "$venv")
      robot_route_pip_step "$venv"
      pip_install "$venv" -r "$ROOT/requirements-jazzy.txt" -r "$ROOT/requirements-dev.txt"
      if [ "$(numpy_version "$venv")" != "$numpy_pinned" ]; then
        log "the lab's requirements replaced numpy $numpy_pinned"; exit 1
      fi
      ;;
  esac
  "$venv/bin/python" -m pip check
}

# setup_venv VENV DISTRO: the venv with the distribution's pinned packages.
setup_venv() {
  local venv=$1 distro=$2 stamp
  stamp="$venv/.requirements.sha256"
  if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv ($distro)"
    "$PYTHON" -m venv "$venv"
  fi
  # colcon must not discover the package.xml files the ROS wheels install under the venv.
  touch "$venv/COLCON_IGNORE"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$(requirements_hash "$distro")" ]; then
    log "installing pinned packages for $distro; a cold install takes a few minutes"
    install_requirements "$venv" "$distro"
    requirements_hash "$distro" > "$stamp"
  else
    log "pinned packages for $distro are up to date"
  fi
}

# build_workspace VENV DISTRO: colcon build of every package into the distribution's spaces.
build_workspace() (
  local venv=$1 distro=$2
  # shellcheck source=/dev/null
  . "$venv/bin/activate"
  export AMENT_PREFIX_PATH="$VIRTUAL_ENV"
  cd "$ROOT"
  log "colcon build ($distro)"
  colcon --log-base "$(space_of log "$distro")" build \
    --base-paths "$ROOT/poe_steer_msgs" "$ROOT/poe_steer_ros" "$ROOT/poe_steer_sim" "$ROOT/poe_steer_lab" \
    --build-base "$(space_of build "$distro")" --install-base "$(space_of install "$distro")" \
    --symlink-install --event-handlers console_cohesion- summary+ \
    --cmake-args -DCMAKE_PROJECT_INCLUDE="$ROOT/cmake/ros_wheels_path_fix.cmake" \
      -DPython3_EXECUTABLE="$venv/bin/python" -DBUILD_TESTING=ON
)

# The upstream tool sources for a distribution's wheels (scripts/env.sh maps them the same way).
tools_of() { if [ "$1" = kilted ]; then echo rolling; else echo "$1"; fi; }

# build_ros2_tools VENV SOURCES: the upstream ros2cli/launch/launch_ros sources SOURCES
# (rolling for the Kilted wheels, jazzy for the Jazzy ones) built against VENV's ROS 2 into
# build/ros2-tools-SOURCES; scripts/env.sh sources it. Skipped where an apt ROS 2 has the tools
# or the sources are absent (the tool tests then skip with that reason).
build_ros2_tools() {
  local venv=$1 sources=$2 tools=${ROS2_TOOLS_SOURCES:-$ROOT/../shared/ros2-tools}
  if command -v ros2 >/dev/null && [ ! -f "$ROOT/build/ros2-tools-$sources/setup.bash" ]; then
    log "ros2 is installed ($(command -v ros2)): no tools overlay needed"
    return 0
  fi
  if [ ! -x "$tools/build.sh" ]; then
    log "no ../shared/ros2-tools: the ros2 CLI and launch tests will skip"
    return 0
  fi
  (
    set +u
    # shellcheck source=/dev/null
    . "$venv/bin/activate"
    export AMENT_PREFIX_PATH="$venv"
    ROS2_TOOLS_CMAKE_ARGS="-DCMAKE_PROJECT_INCLUDE=$ROOT/cmake/ros_wheels_path_fix.cmake" \
      "$tools/build.sh" "$ROOT/build/ros2-tools-$sources" "$sources"
  )
}

step=${1:-build}
shift || true
distros=("$@")
[ ${#distros[@]} -gt 0 ] || distros=(kilted)
check_machine
for distro in "${distros[@]}"; do
  requirement_files "$distro" >/dev/null
  case "$step" in
    setup) setup_venv "$(venv_of "$distro")" "$distro" ;;
    build) setup_venv "$(venv_of "$distro")" "$distro"; build_workspace "$(venv_of "$distro")" "$distro"
           build_ros2_tools "$(venv_of "$distro")" "$(tools_of "$distro")" ;;
    *) log "usage: $0 [setup|build] [${DISTROS[*]}]..."; exit 2 ;;
  esac
done
