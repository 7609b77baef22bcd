"""The compatibility matrix: its sessions, its run, and the page it writes.

    python tools/compatibility.py run [--make-test] [NOX ARGS] [-- PYTEST ARGS]
    python tools/compatibility.py write
    python tools/compatibility.py rewrite

``run`` runs nox (noxfile.py) on the sessions below, then writes
docs/reference/compatibility.rst from what they recorded, and exits with
nox's status. ``--make-test`` runs only the sessions tagged ``make-test``:
all but the whole suite on Python 3.11, which ``make test`` has just run in
its own pytest step. With pytest arguments (``make matrix PYTEST_ARGS=...``)
the run is partial and the page is left as it was. ``write`` writes the page
again from the results of the last run, in .nox/compatibility/; ``rewrite``
writes it again from the data it holds, after a change to ``render``.

Each nox session writes one JSON file there: what it was asked to run (its
Python, Django series and end of the Twisted range), the versions it
imported, and pytest's counts, from pytest's JUnit XML report. Nothing on the
page comes from anywhere else: the page keeps that data in a comment, and
tests/docs/test_compatibility.py checks that the page is exactly what
``render`` makes of it.
"""

import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

from packaging.requirements import Requirement
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reference" / "compatibility.rst"
RESULTS = ROOT / ".nox" / "compatibility"
NOX_REPORT = RESULTS / "nox.json"

# The matrix. The unit tests run on every Python, with every Django series
# that Python supports, on both ends of the Twisted range pyproject.toml
# declares; the whole suite runs on the Pythons of FULL, with the newest
# Twisted. Django series: (requirement, oldest Python it supports).
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
DJANGO = {
    "5.2": ("django>=5.2,<5.3", (3, 10)),
    "6": ("django>=6.0,<7", (3, 12)),
}
TWISTED_ENDS = ("oldest", "newest")
FULL = {"3.11": "5.2", "3.13": "6"}
# The paths each kind of session runs. The full suite leaves out the check
# of this page, which the run is about to rewrite.
TESTS = {
    "unit": ["tests/unit"],
    "full": ["tests", "--ignore=tests/docs/test_compatibility.py"],
}
# `make test` runs these after its own pytest step, which is the whole suite
# on the CI Python, 3.11: every session but that one.
MAKE_TEST_TAG = "make-test"
NOT_IN_MAKE_TEST = {("full", "3.11")}


class Session(NamedTuple):
    tests: str  # "unit" or "full"
    python: str
    django: str  # a key of DJANGO
    twisted: str  # "oldest" or "newest"

    @property
    def id(self):
        return f"{self.python}-django{self.django}-twisted-{self.twisted}"

    @property
    def name(self):
        """The name nox gives the session: function(id)."""
        return f"{self.tests}({self.id})"

    @property
    def record(self):
        """The file the session writes its record to."""
        return RESULTS / f"{self.tests}-{self.id}.json"

    @property
    def tags(self):
        if (self.tests, self.python) in NOT_IN_MAKE_TEST:
            return [self.tests]
        return [self.tests, MAKE_TEST_TAG]


def python_tuple(text):
    return tuple(int(part) for part in text.split("."))


def sessions():
    """Every session of the matrix, in the order the page lists them."""
    found = []
    for python in PYTHONS:
        for django, (_, oldest) in DJANGO.items():
            if python_tuple(python) >= oldest:
                for end in TWISTED_ENDS:
                    found.append(Session("unit", python, django, end))
    for python, django in FULL.items():
        found.append(Session("full", python, django, "newest"))
    return found


def project():
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]


def declared_line(name):
    """The line of pyproject.toml's dependencies that requires `name`."""
    for line in project()["dependencies"]:
        if Requirement(line).name.lower() == name:
            return line
    raise LookupError(f"pyproject.toml declares no dependency on {name}")


def declared(name):
    """The requirement on `name` among pyproject.toml's dependencies."""
    return Requirement(declared_line(name))


def lower_bound(requirement):
    """The version of the `>=` clause of a requirement: its oldest release."""
    bounds = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    if len(bounds) != 1:
        raise ValueError(f"{requirement} has no single >= bound")
    return bounds[0]


def twisted_requirement(end):
    """What a session installs: the declared range, or its lower bound."""
    requirement = declared("twisted")
    if end == "oldest":
        return f"twisted=={lower_bound(requirement)}"
    return f"twisted{requirement.specifier}"


def in_series(version, series):
    """Whether a Django version is of a series: 5.2.19 of 5.2, 6.1.3 of 6."""
    release = Version(version).release
    wanted = python_tuple(series)
    return release[: len(wanted)] == wanted


def twisted_problem(version, end, declared_range):
    """Why the Twisted a session imported is not the end it asked for, if so."""
    requirement = Requirement(declared_range)
    if Version(version) not in requirement.specifier:
        return f"imported Twisted {version}, outside the declared {requirement}"
    oldest = lower_bound(requirement)
    if end == "oldest" and Version(version) != Version(oldest):
        return f"imported Twisted {version}, not the oldest declared, {oldest}"
    return None


def one_line(text, limit=160):
    """A message's first line, whitespace collapsed, cut at `limit`."""
    lines = (text or "").strip().splitlines() or [""]
    line = " ".join(lines[0].split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def junit_counts(path):
    """pytest's counts, and the failed and skipped tests, from its JUnit XML.

    Each failed or skipped test is [test, message]: the message's first line.
    """
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = {key: 0 for key in ("tests", "failures", "errors", "skipped")}
    failed, skipped, xfailed = [], [], 0
    for suite in suites:
        for key in total:
            total[key] += int(suite.get(key, 0))
        for case in suite.iter("testcase"):
            test = ".".join(p for p in (case.get("classname"), case.get("name")) if p)
            for tag in ("failure", "error"):
                for element in case.findall(tag):
                    message = one_line(element.get("message"))
                    failed.append([test, f"{tag}: {message}"])
            for element in case.findall("skipped"):
                if element.get("type") == "pytest.xfail":
                    xfailed += 1
                else:
                    skipped.append([test, one_line(element.get("message"))])
    bad = total["failures"] + total["errors"]
    return {
        "passed": max(total["tests"] - bad - total["skipped"], 0),
        "failed": bad,
        "skipped": total["skipped"] - xfailed,
        "xfailed": xfailed,
        "failed_tests": failed,
        "skipped_tests": skipped,
    }


def problems(record):
    """What is wrong with a session's record: empty if it passed."""
    found = []
    if record.get("error"):
        found.append(record["error"])
    versions = record.get("versions") or {}
    if versions:
        if not versions["python"].startswith(record["python_series"] + "."):
            found.append(f"ran Python {versions['python']}")
        if not in_series(versions["django"], record["django_series"]):
            found.append(
                f"imported Django {versions['django']}, "
                f"not of the {record['django_series']} series"
            )
        problem = twisted_problem(
            versions["twisted"], record["twisted_end"], record["twisted_declared"]
        )
        if problem:
            found.append(problem)
        found.extend(versions.get("misplaced", []))
    if "pytest_exit" in record:
        if record["pytest_exit"] != 0:
            found.append(f"pytest exited with status {record['pytest_exit']}")
        counted = ("passed", "failed", "skipped", "xfailed")
        if sum(record.get(key, 0) for key in counted) == 0:
            found.append("pytest ran no test")
    elif not record.get("error"):
        found.append("pytest did not run")
    return found


# The run.


def git(*args):
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def nox_version():
    from importlib.metadata import version

    return version("nox")


def run(args):
    make_test = "--make-test" in args
    args = [arg for arg in args if arg != "--make-test"]
    nox_args, pytest_args = args, []
    if "--" in args:
        at = args.index("--")
        nox_args, pytest_args = args[:at], args[at + 1 :]
    if make_test:
        nox_args = ["--tags", MAKE_TEST_TAG, *nox_args]
    shutil.rmtree(RESULTS, ignore_errors=True)
    RESULTS.mkdir(parents=True)
    run_info = {
        "by": "make test" if make_test else "make matrix",
        "commit": git("rev-parse", "HEAD"),
        "changed_files": len(git("status", "--porcelain").splitlines()),
        "started": now().isoformat(),
        "nox_args": nox_args,
        "pytest_args": pytest_args,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
        "nox": nox_version(),
        "declared": {name: declared_line(name) for name in ("django", "twisted")},
    }
    (RESULTS / "run.json").write_text(json.dumps(run_info, indent=1) + "\n")
    command = [sys.executable, "-m", "nox", "--report", str(NOX_REPORT), *nox_args]
    if pytest_args:
        command += ["--", *pytest_args]
    print("$", " ".join(command), flush=True)
    status = subprocess.call(command, cwd=ROOT)
    run_info["finished"] = now().isoformat()
    (RESULTS / "run.json").write_text(json.dumps(run_info, indent=1) + "\n")
    data = collect()
    if args:
        print(
            f"Arguments {args}: a partial run; {PAGE.relative_to(ROOT)} left as"
            " it was (`python tools/compatibility.py write` writes it)."
        )
    else:
        PAGE.write_text(render(data))
        print(f"Wrote {PAGE.relative_to(ROOT)}.")
    summarize(data)
    return status


def collect():
    """The data of the page: the run, and one row per session of the matrix."""
    run_info = json.loads((RESULTS / "run.json").read_text())
    report = {}
    if NOX_REPORT.exists():
        for entry in json.loads(NOX_REPORT.read_text())["sessions"]:
            for signature in entry["signatures"]:
                report[signature] = entry
    rows = []
    for session in sessions():
        path = session.record
        entry = report.get(session.name)
        row = {
            "session": session.name,
            "tests": session.tests,
            "python_series": session.python,
            "django_series": session.django,
            "twisted_end": session.twisted,
        }
        if path.exists():
            record = json.loads(path.read_text())
            row.update(record)
            row["problems"] = problems(record)
            row["result"] = "failed" if row["problems"] else "passed"
            if entry and entry["result"] != "success" and not row["problems"]:
                row["problems"] = [f"nox: {entry['result']}, {entry.get('reason')}"]
                row["result"] = "failed"
            if entry:
                row["seconds"] = round(entry["duration"])
        elif entry and entry["result"] == "skipped":
            row["result"] = "not run"
            row["reason"] = entry.get("reason") or "skipped"
        elif entry:
            row["result"] = "failed"
            row["problems"] = [f"nox: {entry['result']}, {entry.get('reason')}"]
        else:
            row["result"] = "not run"
            if run_info["by"] == "make test" and MAKE_TEST_TAG not in session.tags:
                row["reason"] = (
                    "not part of make test: its own pytest step runs the whole"
                    f" suite on Python {session.python}, in .venv"
                )
            else:
                row["reason"] = "not selected for this run"
        rows.append(row)
    return {"run": run_info, "sessions": rows}


def summarize(data):
    totals = {"passed": 0, "failed": 0, "skipped": 0, "xfailed": 0}
    for row in data["sessions"]:
        counts = ", ".join(f"{row.get(key, 0)} {key}" for key in totals)
        if row["result"] == "not run":
            print(f"  {row['session']}: not run: {row['reason']}")
            continue
        print(f"  {row['session']}: {row['result']}, {counts}")
        for problem in row.get("problems", []):
            print(f"      {problem}")
        for key in totals:
            totals[key] += row.get(key, 0)
    # The last line is the plain count a CI log reader looks for.
    print(f"  and {totals.pop('xfailed')} xfailed, in all sessions")
    print("matrix: " + ", ".join(f"{totals[key]} {key}" for key in totals))


# The page.

MARKER = (
    ".. compatibility-data (tools/compatibility.py; tests/docs/test_compatibility.py)"
)


def minutes(seconds):
    if seconds is None:
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


def csv_cell(text):
    text = str(text)
    if any(char in text for char in ',"'):
        return '"' + text.replace('"', '""') + '"'
    return text


def table_rows(rows):
    header = [
        "Session",
        "Tests",
        "Python",
        "Django series",
        "Django",
        "Twisted",
        "Passed",
        "Failed",
        "Skipped",
        "xfail",
        "Install",
        "pytest",
        "Session time",
        "Result",
    ]
    lines = [header]
    for row in rows:
        versions = row.get("versions") or {}
        ran = "pytest_exit" in row
        result = row["result"]
        if result == "not run":
            result = f"not run: {row['reason']}"
        elif row.get("problems"):
            result = "failed: " + "; ".join(row["problems"])
        lines.append(
            [
                f"``{row['session']}``",
                row["tests"],
                versions.get("python", row["python_series"]),
                row["django_series"],
                versions.get("django", ""),
                f"{versions.get('twisted', '')} ({row['twisted_end']})".lstrip(),
                row["passed"] if ran else "",
                row["failed"] if ran else "",
                row["skipped"] if ran else "",
                row.get("xfailed", 0) if ran else "",
                minutes(row.get("install_seconds")),
                minutes(row.get("pytest_seconds")),
                minutes(row.get("seconds")),
                result,
            ]
        )
    return ["   " + ",".join(csv_cell(cell) for cell in line) for line in lines]


def when(run_info):
    started = datetime.datetime.fromisoformat(run_info["started"])
    finished = datetime.datetime.fromisoformat(run_info["finished"])
    span = minutes((finished - started).total_seconds())
    return (
        f"on {started:%Y-%m-%d}, from {started:%H:%M} to {finished:%H:%M} UTC ({span})"
    )


def literal(text):
    """Text as an rst inline literal, whatever it holds."""
    text = " ".join(str(text).replace("``", "` `").split()) or "(none)"
    return f"``{text}``"


def wrap(text, indent=""):
    """Fill a paragraph to 76 columns, never inside an inline literal."""
    parts = re.split(r"(``.*?``)", text)
    text = "".join(
        part.replace(" ", "\0") if part.startswith("``") else part for part in parts
    )
    lines = textwrap.wrap(
        text,
        width=76,
        initial_indent=indent,
        subsequent_indent=" " * len(indent),
        break_on_hyphens=False,
        break_long_words=False,
    )
    return "\n".join(lines).replace("\0", " ")


def render(data):
    run_info, rows = data["run"], data["sessions"]
    changed = run_info["changed_files"]
    tree = (
        f", with uncommitted changes in {changed}"
        f" file{'s' if changed != 1 else ''} of the working tree"
        if changed
        else ", from a clean working tree"
    )
    ran = [row for row in rows if row["result"] != "not run"]
    failed = [row for row in ran if row["result"] != "passed"]
    verdict = f"{len(ran) - len(failed)} of the {len(ran)} sessions that ran passed"
    if failed:
        verdict += "; failed: " + ", ".join(f"``{row['session']}``" for row in failed)
    dump = json.dumps(data, indent=1, sort_keys=True)
    pythons = ", ".join(PYTHONS[:-1]) + f" and {PYTHONS[-1]}"
    full = " and ".join(
        f"{python} (Django {django})" for python, django in FULL.items()
    )
    unit_item = wrap(
        f"the unit tests (``tests/unit``) on each Python of {pythons} that is"
        " installed, with each Django series that Python supports (5.2 LTS; 6.x,"
        " the newest, from Python 3.12 on), and on both ends of the Twisted range"
        f" that ``pyproject.toml`` declares, ``{run_info['declared']['twisted']}``:"
        " its oldest release, and the newest release the package index has in it;",
        indent="- ",
    )
    full_item = wrap(
        "the whole suite (``tests/``, without the check of this page) on Python"
        f" {full}, with the newest Twisted.",
        indent="- ",
    )
    last_run = wrap(
        f"Run by ``{run_info['by']}`` from commit ``{run_info['commit']}``{tree},"
        f" {when(run_info)}, on {run_info['machine']}, with nox {run_info['nox']}:"
        f" {verdict}. Install is the time a session took to install its packages,"
        " pytest the time of its pytest run, and session time the whole"
        " session's, its virtual environment included."
    )
    text = f"""\
{MARKER}
{textwrap.indent(dump, "   ")}

.. This page is written by tools/compatibility.py, from the last run of
   the matrix (`make matrix`, or `make test`): do not edit it by hand.

Compatibility
=============

The versions the tests have run on. ``make matrix`` runs ``noxfile.py``:

{unit_item}
{full_item}

A Python that is not installed is skipped, with a note. Each session
installs the versions pinned in ``requirements/ci.txt``, except Django and
Twisted, which it chooses, and the package itself, editable; it then
records the versions it imported and pytest's counts. ``make test`` runs the
same sessions after its own pytest step, except the whole suite on Python
3.11, which that step is, and writes this page again.

Last run
--------

{last_run}

.. csv-table::
   :header-rows: 1

{chr(10).join(table_rows(rows))}
"""
    notes = []
    for row in rows:
        for test, message in row.get("failed_tests", []):
            notes.append(f"- ``{row['session']}``: {literal(test)}, {literal(message)}")
    if notes:
        text += "\nThe failed tests:\n\n" + "\n".join(notes) + "\n"
    skips = {}
    for row in rows:
        for test, message in row.get("skipped_tests", []):
            skips.setdefault((test, message), []).append(row["session"])
    if skips:
        text += "\nThe skipped tests, and the sessions that skipped them:\n\n"
        for (test, message), names in skips.items():
            kinds = {row["tests"] for row in ran if row["session"] in names}
            every = [row["session"] for row in ran if row["tests"] in kinds]
            if len(kinds) == 1 and names == every:
                where = f"every {kinds.pop()} session"
            else:
                where = ", ".join(f"``{name}``" for name in names)
            text += f"- {literal(test)}, {literal(message)} ({where})\n"
    text += """
Run it again
------------

From the repository's folder, the whole matrix, or some of its tests::

   make matrix
   make matrix PYTEST_ARGS="-x -k steps"

``PYTEST_ARGS`` go to pytest in every session, and make the run partial:
it leaves this page as it is. The virtual environments go to ``.nox/``, and
are reused from one run to the next; the sessions' records go to
``.nox/compatibility/``, and ``python tools/compatibility.py write`` writes
this page again from them.
"""
    return text


def parse(text):
    """The data a page was written from, out of its leading comment."""
    lines = text.splitlines()
    if not lines or lines[0] != MARKER:
        raise ValueError("the page does not start with its data")
    block = []
    for line in lines[1:]:
        if line and not line.startswith("   "):
            break
        block.append(line[3:])
    return json.loads("\n".join(block))


def main(argv):
    if argv[:1] == ["run"]:
        return run(argv[1:])
    if argv[:1] in (["write"], ["rewrite"]):
        data = collect() if argv[0] == "write" else parse(PAGE.read_text())
        PAGE.write_text(render(data))
        summarize(data)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
