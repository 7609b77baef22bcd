"""Test the docs: Sybil runs every page's console blocks, doctests and code.

Each page gets its own sandbox (a copy of examples/ in a temporary
directory), its own free ports in place of 8080, 8443 and 9000, and a
teardown that stops whatever the page left running: see
tests/support/console.py. The sandbox is also made to look like a clone
whose ``make venv`` has run (support/tutorial.py), for the tutorial's first
commands. tests/docs/test_tutorial_walk.py runs the tutorial's pages once
more, in order, in one sandbox.
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
    NAMESPACE_KEY,
    ConsoleParser,
    console_setup,
    console_teardown,
)
from support.tutorial import prepare_clone  # noqa: E402


def setup(namespace):
    """A page's console session, in a sandbox that looks like a clone."""
    console_setup(namespace)
    prepare_clone(namespace[NAMESPACE_KEY].sandbox)


def parsers():
    return [
        ConsoleParser(timeout=30),
        DocTestParser(optionflags=ELLIPSIS),
        PythonCodeBlockParser(),
    ]


# The HTML build copies the sources; never collect anything from it.
collect_ignore = ["_build"]

pytest_collect_file = Sybil(
    parsers=parsers(),
    patterns=["*.rst"],
    excludes=["_build/*"],
    setup=setup,
    teardown=console_teardown,
).pytest()
