#!/usr/bin/env bash
# Runs every test of every package through colcon and fails on any failure.
# `colcon test` alone exits 0 when tests fail, hence --return-code-on-test-failure, and the
# closing line counts the JUnit results of every package. Extra arguments go to pytest.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
rm -f build/*/pytest.xml build/*/test_results/*/*.xunit.xml
colcon --log-base "$ROOT/log" test \
  --base-paths "$ROOT/poe_steer_msgs" "$ROOT/poe_steer_ros" "$ROOT/poe_steer_sim" "$ROOT/poe_steer_lab" \
  --build-base "$ROOT/build" --install-base "$ROOT/install" \
  --return-code-on-test-failure --event-handlers console_direct+ summary+ \
  --pytest-args -p no:cacheprovider -rs "$@"
status=$?
python - "$status" <<'PY'
import glob
import sys
import xml.etree.ElementTree as ElementTree

totals = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
# ament_python packages write pytest.xml, ament_cmake_pytest tests *.xunit.xml.
for report in glob.glob('build/*/pytest.xml') + glob.glob('build/*/test_results/*/*.xunit.xml'):
    root = ElementTree.parse(report).getroot()
    for suite in ([root] if root.tag == 'testsuite' else root.iter('testsuite')):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
failed = totals['failures'] + totals['errors']
passed = totals['tests'] - failed - totals['skipped']
if totals['tests'] == 0:
    print('tests: no test ran')
    sys.exit(1)
print(f"tests: {passed} passed, {failed} failed, {totals['skipped']} skipped")
sys.exit(int(sys.argv[1]) or (1 if failed else 0))
PY
