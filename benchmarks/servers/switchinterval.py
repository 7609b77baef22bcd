"""python switchinterval.py SECONDS twistd ARGUMENTS...: run twistd with
Python's thread switch interval (``sys.setswitchinterval``) set to SECONDS
(Python's default is 0.005)."""

import sys

from twisted.scripts.twistd import run

sys.setswitchinterval(float(sys.argv[1]))
sys.argv = sys.argv[2:]
run()
