"""The test matrix: run `make matrix`, or `nox` from the project's venv.

One session per Python from 3.10 up and per Django series: 5.2 LTS, and
6.x, the newest, which needs Python 3.12 or newer. A Python that is not
installed is skipped with a note, and so is a pair that Django does not
support. Each session installs the dependencies of pyproject.toml and its
test extra at the versions pinned in requirements/ci.txt, except Django,
which the session chooses, then runs `pytest tests`. The docs pages'
console blocks and doctests are left to `make test`, which builds the docs
with the docs toolchain. Arguments after `--` go to pytest, as in
`nox -- -x -k steps` or `nox -- tests/test_steps.py`. What was run, and
when: docs/reference/compatibility.rst.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import nox

nox.needs_version = ">=2025.10.14"
nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"
# A Python that is not installed is a skip, not an error, even on CI, and
# nox must not try to download one.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"

ROOT = Path(__file__).parent
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# Django series: (requirement, oldest Python it supports).
DJANGO = {
    "5.2": ("django>=5.2,<5.3", (3, 10)),
    "6": ("django>=6.0,<7", (3, 12)),
}
REPORT = (
    "import sys, django, twisted; print('Python', sys.version.split()[0],"
    " '| Django', django.get_version(), '| Twisted', twisted.__version__)"
)


def runs(python):
    try:
        return subprocess.run([python, "-c", ""], capture_output=True).returncode == 0
    except OSError:
        return False


def find_pyenv_pythons():
    """Let nox find the Pythons that pyenv has installed but not activated.

    pyenv puts a shim on PATH for every version it knows, and the shim of a
    version that is not active fails: nox then reports that Python as not
    found. For each such version, link its newest pyenv build into
    .nox/.pythons, and put that folder first on PATH.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    links = ROOT / ".nox" / ".pythons"
    for version in PYTHONS:
        name = f"python{version}"
        if runs(shutil.which(name) or name):
            continue
        builds = [
            path
            for path in (pyenv_root / "versions").glob(f"{version}.*/bin/{name}")
            if re.fullmatch(rf"{re.escape(version)}\.\d+", path.parents[1].name)
        ]
        builds.sort(key=lambda p: int(p.parents[1].name.rpartition(".")[2]))
        if builds and runs(builds[-1]):
            links.mkdir(parents=True, exist_ok=True)
            link = links / name
            link.unlink(missing_ok=True)
            link.symlink_to(builds[-1])
    if links.is_dir():
        os.environ["PATH"] = os.pathsep.join([str(links), os.environ["PATH"]])


def constraints_without_django(session):
    """requirements/ci.txt, less its Django pins, in the session's tmp dir."""
    lines = (ROOT / "requirements" / "ci.txt").read_text().splitlines()
    kept = [
        line
        for line in lines
        if re.split(r"[\s=<>!~;\[]", line.strip(), maxsplit=1)[0].lower() != "django"
    ]
    path = Path(session.create_tmp()) / "constraints.txt"
    path.write_text("\n".join(kept) + "\n")
    return path


find_pyenv_pythons()


@nox.session(python=PYTHONS)
@nox.parametrize("django", list(DJANGO), ids=[f"django{s}" for s in DJANGO])
def tests(session, django):
    requirement, oldest = DJANGO[django]
    python = tuple(int(part) for part in session.python.split("."))
    if python < oldest:
        session.skip(
            f"Django {django} needs Python {'.'.join(map(str, oldest))} or newer"
        )
    project = nox.project.load_toml(ROOT / "pyproject.toml")["project"]
    session.install(
        *("--constraint", str(constraints_without_django(session))),
        *project["dependencies"],
        *project["optional-dependencies"]["test"],
        requirement,
    )
    versions = session.run("python", "-c", REPORT, silent=True)
    session.log(f"versions: {versions.strip()}")
    # Paths among the arguments choose the tests; otherwise, all of tests/.
    paths = [a for a in session.posargs if (ROOT / a.split("::")[0]).exists()]
    session.run("pytest", *([] if paths else ["tests"]), *session.posargs)
