"""Test the docs: Sybil runs every page's console blocks, doctests and code.

Each page gets its own sandbox (a copy of examples/ in a temporary
directory), its own free ports in place of 8080, 8443 and 9000, and a
teardown that stops whatever the page left running: see
tests/support/console.py.
"""

import sys
from doctest import ELLIPSIS
from pathlib import Path

from sybil import Sybil
from sybil.parsers.rest import DocTestParser, PythonCodeBlockParser

TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from support.console import (  # noqa: E402
    ConsoleParser,
    console_setup,
    console_teardown,
)

# The HTML build copies the sources; never collect anything from it.
collect_ignore = ["_build"]

pytest_collect_file = Sybil(
    parsers=[
        ConsoleParser(timeout=30),
        DocTestParser(optionflags=ELLIPSIS),
        PythonCodeBlockParser(),
    ],
    patterns=["*.rst"],
    excludes=["_build/*"],
    setup=console_setup,
    teardown=console_teardown,
).pytest()
