"""``python -m poe_steer_lab.reliability``: the same as ``poe-steer reliability``."""

import sys

from poe_steer_lab.cli import main

sys.exit(main(['reliability', *sys.argv[1:]]))
