# Source this file to use the development workspace in a shell:
#   . scripts/env.sh           # ROS 2 Kilted: .venv and install/
#   . scripts/env.sh jazzy     # ROS 2 Jazzy: .venv-jazzy and install-jazzy/
# It activates the distribution's venv (ROS 2 from PyPI wheels) and overlays its colcon install
# space (scripts/bootstrap.sh build [jazzy] makes both), then the real `ros2` CLI and
# `launch` that bootstrap built for it from ../shared/ros2-tools, when it did
# (build/ros2-tools-rolling for Kilted, build/ros2-tools-jazzy for Jazzy).
_poe_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_poe_distro=${1:-kilted}
if [ "$_poe_distro" = kilted ]; then
  _poe_venv=$_poe_root/.venv _poe_install=$_poe_root/install _poe_tools=rolling
else
  _poe_venv=$_poe_root/.venv-$_poe_distro _poe_install=$_poe_root/install-$_poe_distro
  _poe_tools=$_poe_distro
fi
if [ ! -f "$_poe_install/setup.bash" ]; then
  echo "poe_steer_ros: $_poe_distro workspace not built yet; run 'scripts/bootstrap.sh build $_poe_distro'" >&2
  unset _poe_root _poe_distro _poe_venv _poe_install _poe_tools
  return 1 2>/dev/null || exit 1
fi
. "$_poe_venv/bin/activate"
# The venv is the ROS underlay: set before sourcing so the workspace goes in front of it.
export AMENT_PREFIX_PATH="$VIRTUAL_ENV"
_poe_nounset=$([[ $- == *u* ]] && echo 1 || true)
set +u  # install/setup.bash reads unset variables
. "$_poe_install/setup.bash"
if [ -f "$_poe_root/build/ros2-tools-$_poe_tools/setup.bash" ]; then
  . "$_poe_root/build/ros2-tools-$_poe_tools/setup.bash"
fi
[ -n "$_poe_nounset" ] && set -u
unset _poe_root _poe_distro _poe_venv _poe_install _poe_tools _poe_nounset
