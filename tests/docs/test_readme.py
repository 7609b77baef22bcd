"""The README's two commands, ``make demo`` and ``make test``, do what it says.

tests/docs/test_demo.py runs ``make demo`` and ``make stop`` for real. ``make
test`` runs this test suite, so a test cannot run it whole: CI runs it
(.ci/run). Here, ``make --dry-run test`` must plan exactly the checks that
the README lists, in its order: ruff, ruff format, sphinx-lint, the Sphinx
build with warnings as errors, pytest.
"""

import re
import subprocess
import sys
from pathlib import Path

from support.steps import ROOT

README = ROOT / "README.md"


def console_commands(text):
    blocks = re.findall(r"^```console\n(.*?)^```", text, re.M | re.S)
    return [
        line[2:] for block in blocks for line in block.splitlines() if line[:2] == "$ "
    ]


def test_the_readme_shows_two_commands():
    assert console_commands(README.read_text()) == ["make demo", "make test"]


def test_make_demo_is_run_by_a_test():
    assert '"demo"' in (ROOT / "tests/docs/test_demo.py").read_text()


def test_make_test_runs_the_checks_the_readme_lists():
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [
            *("make", "--no-print-directory", "--dry-run", f"BIN={bin_dir}"),
            *("--old-file", f"{bin_dir}/.installed", "test"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    planned = [line.split()[:2] for line in result.stdout.splitlines() if line]
    tools = [Path(words[0]).name for words in planned]
    assert tools[:5] == ["ruff", "ruff", "sphinx-lint", "sphinx-build", "pytest"]
    assert planned[1][1] == "format"
    assert "-n -W --keep-going" in result.stdout
    readme = README.read_text()
    for shown in (
        "ruff check",
        "ruff format --check",
        "sphinx-lint",
        "-n -W --keep-going",
    ):
        assert shown in readme, shown
