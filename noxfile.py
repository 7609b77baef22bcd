"""The test matrix: `make matrix` runs it all, `make test` all but one session.

The sessions are listed in tools/compatibility.py, with the page it writes
from their records (docs/reference/compatibility.rst):

- ``unit(PY-djangoD-twisted-END)``: ``pytest tests/unit`` on each Python
  from 3.10 to 3.13, with each Django series the Python supports (5.2 LTS;
  6.x, the newest, needs Python 3.12), on each end of the Twisted range in
  pyproject.toml: its oldest release (its ``>=`` bound), and its newest;
- ``full(PY-djangoD-twisted-newest)``: all of ``tests/`` on 3.11 and 3.13.

A Python that is not installed is skipped with a note. Each session
installs the dependencies of pyproject.toml, its test extra (and, for the
whole suite, its docs extra: ``make demo`` builds the docs) at the versions
pinned in requirements/ci.txt, except Django and Twisted, which the session
chooses; then the package itself, editable, as the Makefile does. It records
the versions it imported and pytest's counts in .nox/compatibility/, and
fails if they are not the ones it asked for. Arguments after `--` go to
pytest, as in `nox -- -x -k steps`; paths among them choose the tests.
Run through `make matrix`, not bare `nox`, to have the page written.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.needs_version = ">=2025.10.14"
nox.options.reuse_venv = "yes"
# A Python that is not installed is a skip, not an error, even on CI, and
# nox must not try to download one.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"

ROOT = Path(__file__).parent


def load_matrix():
    path = ROOT / "tools" / "compatibility.py"
    spec = importlib.util.spec_from_file_location("compatibility", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


matrix = load_matrix()

# Run in the session's Python: what it imports, and from where.
VERSIONS = """\
import json, platform, sys
import django, twisted, twistd_django
json.dump({
    "python": platform.python_version(),
    "django": django.get_version(),
    "twisted": twisted.__version__,
    "twistd_django": twistd_django.__version__,
    "files": {m.__name__: m.__file__ for m in (django, twisted, twistd_django)},
}, open(sys.argv[1], "w"))
"""


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
    for version in matrix.PYTHONS:
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


def constraints_without(session, *names):
    """requirements/ci.txt, less its pins of `names`, in the session's tmp dir."""
    lines = (ROOT / "requirements" / "ci.txt").read_text().splitlines()
    kept = [
        line
        for line in lines
        if re.split(r"[\s=<>!~;\[]", line.strip(), maxsplit=1)[0].lower() not in names
    ]
    path = Path(session.create_tmp()) / "constraints.txt"
    path.write_text("\n".join(kept) + "\n")
    return path


def install(session, spec, record):
    project = nox.project.load_toml(ROOT / "pyproject.toml")["project"]
    extras = ["test", "docs"] if spec.tests == "full" else ["test"]
    record["django_requirement"] = matrix.DJANGO[spec.django][0]
    record["twisted_declared"] = matrix.declared_line("twisted")
    record["twisted_requirement"] = matrix.twisted_requirement(spec.twisted)
    # --upgrade: a reused venv moves to the newest release the range and
    # the constraints allow, as a new one would have.
    session.install(
        "--upgrade",
        *("--constraint", str(constraints_without(session, "django", "twisted"))),
        *project["dependencies"],
        *(line for extra in extras for line in project["optional-dependencies"][extra]),
        record["django_requirement"],
        record["twisted_requirement"],
    )
    session.install("--no-deps", "--no-build-isolation", "--editable", str(ROOT))


def imported_versions(session):
    path = Path(session.create_tmp()) / "versions.json"
    session.run("python", "-c", VERSIONS, str(path), silent=True)
    versions = json.loads(path.read_text())
    venv = Path(session.virtualenv.location).resolve()
    homes = {"django": venv, "twisted": venv, "twistd_django": ROOT / "src"}
    versions["misplaced"] = [
        f"imported {name} from {file}, not from {homes[name]}"
        for name, file in versions.pop("files").items()
        if not Path(file).resolve().is_relative_to(homes[name])
    ]
    return versions


def run_pytest(session, spec, record):
    junit = Path(session.create_tmp()) / "junit.xml"
    junit.unlink(missing_ok=True)
    # Paths among the arguments choose the tests; otherwise, the spec's.
    paths = [a for a in session.posargs if (ROOT / a.split("::")[0]).exists()]
    args = [*([] if paths else matrix.TESTS[spec.tests]), *session.posargs]
    record["pytest_args"] = args
    started = time.monotonic()
    try:
        session.run("pytest", *args, f"--junitxml={junit}")
        record["pytest_exit"] = 0
    except CommandFailed as failed:
        code = re.search(r"-?\d+", str(failed.reason or ""))
        record["pytest_exit"] = int(code.group()) if code else -1
    record["pytest_seconds"] = round(time.monotonic() - started, 1)
    if junit.exists():
        record.update(matrix.junit_counts(junit))
    else:
        record.update(passed=0, failed=0, skipped=0)


def run_session(session, spec):
    """Install, record the versions, run pytest, and write the record."""
    assert session.name == spec.name, (session.name, spec.name)
    record = {
        "session": spec.name,
        "tests": spec.tests,
        "python_series": spec.python,
        "django_series": spec.django,
        "twisted_end": spec.twisted,
    }
    spec.record.unlink(missing_ok=True)
    try:
        started = time.monotonic()
        install(session, spec, record)
        record["install_seconds"] = round(time.monotonic() - started, 1)
        record["versions"] = imported_versions(session)
        session.log(
            "imported: Python {python}, Django {django}, Twisted {twisted}".format(
                **record["versions"]
            )
        )
        run_pytest(session, spec, record)
    except CommandFailed as failed:
        record["error"] = f"{failed.reason or 'a command failed'} before pytest ran"
        raise
    finally:
        spec.record.parent.mkdir(parents=True, exist_ok=True)
        spec.record.write_text(json.dumps(record, indent=1) + "\n")
    problems = matrix.problems(record)
    if problems:
        session.error("; ".join(problems))


def params(kind):
    return [
        nox.param(s.python, s, id=s.id, tags=s.tags)
        for s in matrix.sessions()
        if s.tests == kind
    ]


find_pyenv_pythons()


@nox.session
@nox.parametrize(["python", "spec"], params("unit"))
def unit(session, spec):
    run_session(session, spec)


@nox.session
@nox.parametrize(["python", "spec"], params("full"))
def full(session, spec):
    run_session(session, spec)
