#!/usr/bin/env bash
# Runs every test of every package through colcon, once per ROS 2 distribution (each in its own
# venv and colcon spaces, built by scripts/bootstrap.sh build DISTRO...), and fails on any
# failure. `colcon test` alone exits 0 when tests fail, hence --return-code-on-test-failure; the
# closing lines count the JUnit results: one line per distribution, then their sum.
#   scripts/run_tests.sh [--distros "kilted jazzy"] [pytest args...]
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
distros="kilted jazzy"
if [ "${1:-}" = --distros ]; then distros=$2; shift 2; fi

space_of() { if [ "$2" = kilted ]; then echo "$1"; else echo "$1-$2"; fi; }

# test_distro DISTRO [pytest args]: the suite in the distribution's environment. Jazzy stands
# for the robot route (numpy 1.26, requirements-robot.txt), so its nodes run numpy's per-state
# kernels, as without the optional numba; Kilted runs numba's (core/per_state.py).
test_distro() (
  local distro=$1
  shift
  # shellcheck source=/dev/null
  . scripts/env.sh "$distro" || exit 1
  if [ "$distro" = jazzy ]; then export POE_STEER_KERNELS=numpy; else export POE_STEER_KERNELS=numba; fi
  rm -f "$(space_of build "$distro")"/*/pytest.xml "$(space_of build "$distro")"/*/test_results/*/*.xunit.xml
  echo "=== $distro: numpy $(python -c 'import numpy; print(numpy.__version__)'), per-state" \
    "kernels $POE_STEER_KERNELS, rclpy from" \
    "$(python -c 'import rclpy, os; print(os.path.dirname(rclpy.__file__))')"
  colcon --log-base "$ROOT/$(space_of log "$distro")" test \
    --base-paths "$ROOT/poe_steer_msgs" "$ROOT/poe_steer_ros" "$ROOT/poe_steer_sim" "$ROOT/poe_steer_lab" \
    --build-base "$ROOT/$(space_of build "$distro")" \
    --install-base "$ROOT/$(space_of install "$distro")" \
    --return-code-on-test-failure --event-handlers console_direct+ summary+ \
    --pytest-args -p no:cacheprovider -rs "$@"
)

status=0
summary=()
for distro in $distros; do
  start=$SECONDS
  test_distro "$distro" "$@" || status=1
  summary+=("$distro=$(space_of build "$distro")=$((SECONDS - start))")
done
python3 - "$status" "${summary[@]}" <<'PY'
import glob
import sys
import xml.etree.ElementTree as ElementTree

KEYS = ('tests', 'failures', 'errors', 'skipped')


def count(build_base):
    totals = dict.fromkeys(KEYS, 0)
    # ament_python packages write pytest.xml, ament_cmake_pytest tests *.xunit.xml.
    for report in (glob.glob(f'{build_base}/*/pytest.xml')
                   + glob.glob(f'{build_base}/*/test_results/*/*.xunit.xml')):
        root = ElementTree.parse(report).getroot()
        for suite in ([root] if root.tag == 'testsuite' else root.iter('testsuite')):
            for key in KEYS:
                totals[key] += int(suite.get(key, 0))
    failed = totals['failures'] + totals['errors']
    return totals['tests'] - failed - totals['skipped'], failed, totals['skipped']


status = int(sys.argv[1])
grand = [0, 0, 0]
for entry in sys.argv[2:]:
    distro, build_base, seconds = entry.split('=')
    passed, failed, skipped = count(build_base)
    if passed + failed + skipped == 0:
        status = 1
    print(f'{distro} ({seconds} s): {passed} passed, {failed} failed, {skipped} skipped'
          + (' (no test ran)' if passed + failed + skipped == 0 else ''))
    grand = [total + value for total, value in zip(grand, (passed, failed, skipped))]
if sum(grand) == 0:
    print('tests: no test ran')
    sys.exit(1)
print(f'tests: {grand[0]} passed, {grand[1]} failed, {grand[2]} skipped')
sys.exit(status or (1 if grand[1] else 0))
PY
