"""docs/reference/compatibility.rst is a real run of the matrix, and a good one.

The page is written by tools/compatibility.py, from the records of the
matrix's nox sessions, which it keeps in its leading comment. These tests
read that data, and check that the page is exactly what the script makes of
it (nobody edited it by hand), that it was run from a commit of this
history, that it covers the whole matrix, and that every session that ran
passed, on the Django series and the end of the Twisted range it declares.

In CI, `make test` runs this check on the committed page, then runs the
matrix, which writes the page again for the commit under test.
"""

import importlib.util
import subprocess
import sys

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from support.steps import ROOT

PAGE = ROOT / "docs" / "reference" / "compatibility.rst"


def load_tool():
    path = ROOT / "tools" / "compatibility.py"
    spec = importlib.util.spec_from_file_location("compatibility", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


tool = load_tool()


@pytest.fixture(scope="module")
def page():
    return PAGE.read_text()


@pytest.fixture(scope="module")
def data(page):
    return tool.parse(page)


@pytest.fixture(scope="module")
def ran(data):
    return [row for row in data["sessions"] if row["result"] != "not run"]


def locked(name):
    """The version requirements/ci.txt pins for `name`, on any Python."""
    lines = (ROOT / "requirements" / "ci.txt").read_text().splitlines()
    pins = {
        line.split(";")[0].strip().split("==")[1]
        for line in lines
        if line.split("==")[0].strip().lower() == name
    }
    assert len(pins) == 1, f"requirements/ci.txt pins {name} as {pins}"
    return Version(pins.pop())


def test_the_page_is_what_the_script_writes_from_its_data(page, data):
    assert tool.render(data) == page, (
        "docs/reference/compatibility.rst is not what tools/compatibility.py"
        " writes from the data it holds: run `make matrix` again, and do not"
        " edit the page by hand"
    )


def test_the_page_was_run_from_a_commit_of_this_history(data):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    commit = data["run"]["commit"]
    result = subprocess.run(
        ["git", "merge-base", "--is-ancestor", commit, "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"the page's commit {commit} is not an ancestor of HEAD"
        f" (git merge-base exit status {result.returncode}: {result.stderr.strip()})"
    )


def test_the_page_covers_the_whole_matrix(data, ran):
    names = [row["session"] for row in data["sessions"]]
    assert names == [session.name for session in tool.sessions()]
    for row in data["sessions"]:
        if row["result"] == "not run":
            # Only a missing Python, or the one session `make test` runs as
            # its own pytest step; never a partial selection.
            reason = row["reason"]
            allowed = "not found" in reason or "not part of make test" in reason
            assert allowed, f"{row['session']}: {reason}"
    assert {row["tests"] for row in ran} == {"unit", "full"}
    assert {row["twisted_end"] for row in ran} == {"oldest", "newest"}


def test_the_page_is_for_the_ranges_pyproject_declares(data):
    for name in ("django", "twisted"):
        assert data["run"]["declared"][name] == tool.declared_line(name), (
            f"pyproject.toml's {name} range changed since the page's run:"
            " run `make matrix` again"
        )


def test_every_session_that_ran_passed(ran):
    for row in ran:
        assert row["result"] == "passed", f"{row['session']}: {row.get('problems')}"
        assert row["pytest_exit"] == 0, row["session"]
        assert row["failed"] == 0, f"{row['session']}: {row['failed_tests']}"
        assert row["passed"] > 0, row["session"]


def test_each_session_ran_the_python_and_django_it_declares(ran):
    for row in ran:
        versions = row["versions"]
        assert versions["python"].startswith(row["python_series"] + "."), row
        assert versions["django"].startswith(row["django_series"] + "."), (
            f"{row['session']} declares Django {row['django_series']},"
            f" and imported Django {versions['django']}"
        )


def test_each_session_ran_its_end_of_the_declared_twisted_range(ran):
    declared = Requirement(tool.declared_line("twisted"))
    (oldest,) = [s.version for s in declared.specifier if s.operator == ">="]
    for row in ran:
        twisted = Version(row["versions"]["twisted"])
        assert twisted in declared.specifier, f"{row['session']}: Twisted {twisted}"
        if row["twisted_end"] == "oldest":
            assert twisted == Version(oldest), f"{row['session']}: Twisted {twisted}"
        else:
            # The newest release in the range is at least the one the lock
            # pins (the lock resolves to the newest, when it is made).
            assert twisted >= locked("twisted"), f"{row['session']}: Twisted {twisted}"
