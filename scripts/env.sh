# Source this file to use the development workspace in a shell:
#   . scripts/env.sh
# It activates the project venv (ROS 2 from PyPI wheels), overlays the colcon install space and,
# when scripts/bootstrap.sh built them, the real `ros2` CLI and `launch` of
# build/ros2-tools-${ROS2_TOOLS_DISTRO:-rolling}.
_poe_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ ! -f "$_poe_root/install/setup.bash" ]; then
  echo "poe_steer_ros: workspace not built yet; run 'make build' first" >&2
  return 1 2>/dev/null || exit 1
fi
. "$_poe_root/.venv/bin/activate"
# The venv is the ROS underlay: set before sourcing so the workspace goes in front of it.
export AMENT_PREFIX_PATH="$VIRTUAL_ENV"
_poe_nounset=$([[ $- == *u* ]] && echo 1 || true)
set +u  # install/setup.bash reads unset variables
. "$_poe_root/install/setup.bash"
if [ -f "$_poe_root/build/ros2-tools-${ROS2_TOOLS_DISTRO:-rolling}/setup.bash" ]; then
  . "$_poe_root/build/ros2-tools-${ROS2_TOOLS_DISTRO:-rolling}/setup.bash"
fi
[ -n "$_poe_nounset" ] && set -u
unset _poe_root _poe_nounset
