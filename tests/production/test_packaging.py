"""The package builds as a wheel, and installs into a bare venv.

The wheel is built offline, from a copy of the repository's package files
(pyproject.toml, README.md, src/), with the build backend of the test
environment (hatchling, from the ``test`` extra). ``pip install`` of that
copy into a new virtual environment, outside the repository, fetches
Twisted and Django from the package index, pinned by requirements/ci.txt:
that test is the slow one (``-m "not slow"`` leaves it out).
"""

import ast
import base64
import csv
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import twistd_django
from support.daemon import Twistd
from support.http import get
from support.startproject import assert_admin_is_served, start_project
from support.steps import ROOT, SITE

VERSION = twistd_django.__version__
WHEEL_NAME = f"twistd_django-{VERSION}-py3-none-any.whl"
DIST_INFO = f"twistd_django-{VERSION}.dist-info"
PLUGIN = "twisted/plugins/twistd_django_plugin.py"
PACKAGE_FILES = ("pyproject.toml", "README.md", "src")
CONSTRAINTS = ROOT / "requirements" / "ci.txt"
POINTERS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE")


def clean_env(**extra):
    """This environment, without anything that would point Python at the repo."""
    env = {k: v for k, v in os.environ.items() if k not in POINTERS}
    env.update(PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run(*args, cwd, env=None, timeout=120, check=True):
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env or clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, (
            f"$ {' '.join(map(str, args))}\nexit status {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
        )
    return result


def source_files(folder):
    """The files of the package that the wheel must hold, by wheel path."""
    return {
        path.relative_to(folder / "src").as_posix()
        for path in (folder / "src" / "twistd_django").rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".pyc", ".pyo")
        and path.name != "dropin.cache"
    }


def plugin_description(folder):
    """The description given to ``ServiceMaker`` in the plugin module."""
    tree = ast.parse((folder / PLUGIN).read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == "ServiceMaker"
        ):
            return node.args[2].value
    raise AssertionError(f"no ServiceMaker(...) in {PLUGIN}")


def copy_package_source(target):
    """The files ``pip install <repo>`` reads, without the repo's runtime files."""
    target.mkdir()
    for name in PACKAGE_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(
                path,
                target / name,
                ignore=shutil.ignore_patterns("__pycache__", "dropin.cache"),
            )
        else:
            shutil.copy2(path, target / name)
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Copy the package's files, with runtime files planted in them, and build.

    Returns (source copy, wheel path). Nothing is written into the repo.
    """
    if importlib.util.find_spec("hatchling") is None:
        pytest.fail("hatchling, the build backend, is missing: see the test extra")
    base = tmp_path_factory.mktemp("packaging")
    source = copy_package_source(base / "repo")
    # What a developer's folder holds after a run: the wheel must leave it out.
    package = source / "src" / "twistd_django"
    (source / "src" / "twisted" / "plugins" / "dropin.cache").write_bytes(b"stale")
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "options.cpython-311.pyc").write_bytes(b"stale")
    (package / "dropin.cache").write_bytes(b"stale")

    before = sorted(source.rglob("*"))
    dist = base / "dist"
    run(
        *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
        *("--no-build-isolation", "--no-index", "--wheel-dir", dist, source),
        cwd=base,
    )
    wheels = sorted(p.name for p in dist.iterdir())
    assert wheels == [WHEEL_NAME]
    assert sorted(source.rglob("*")) == before, "the build wrote into the folder"
    return source, dist / WHEEL_NAME


def test_wheel_holds_the_package_and_the_plugin_module_only(built):
    source, wheel = built
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert len(names) == len(set(names))
    shipped = {n for n in names if not n.startswith(f"{DIST_INFO}/")}
    assert shipped == source_files(source) | {PLUGIN}
    assert "twistd_django/__init__.py" in shipped
    assert "twisted/__init__.py" not in names
    assert "twisted/plugins/__init__.py" not in names
    assert [n for n in names if n.startswith("twisted/")] == [PLUGIN]
    runtime = [
        n
        for n in names
        if "dropin.cache" in n or "__pycache__" in n or n.endswith((".pyc", ".pyo"))
    ]
    assert runtime == []


def test_wheel_record_lists_every_file_with_its_hash(built):
    _, wheel = built
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        rows = list(csv.reader(io.StringIO(zf.read(f"{DIST_INFO}/RECORD").decode())))
        for path, digest, size in rows:
            if path == f"{DIST_INFO}/RECORD":
                assert digest == size == ""
                continue
            data = zf.read(path)
            sha = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={sha.decode()}", path
            assert int(size) == len(data), path
    assert {row[0] for row in rows} == names


def test_wheel_metadata(built):
    _, wheel = built
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read(f"{DIST_INFO}/METADATA").decode()
    fields = re.findall(r"^([\w-]+): (.*)$", metadata, re.MULTILINE)
    assert ("Name", "twistd-django") in fields
    # The version has one home: src/twistd_django/__init__.py.
    assert ("Version", VERSION) in fields
    assert ("Requires-Python", ">=3.10") in fields
    requires = sorted(
        str(Requirement(v))
        for k, v in fields
        if k == "Requires-Dist" and "extra" not in v
    )
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert requires == sorted(str(Requirement(d)) for d in declared["dependencies"])
    # Both ranges are bounded above: a new major release is tested first.
    for requirement in map(Requirement, requires):
        assert requirement.name in ("twisted", "django")
        assert any(spec.operator == "<" for spec in requirement.specifier)
        assert any(spec.operator == ">=" for spec in requirement.specifier)


INSPECT = """
import json, sysconfig, twisted, twisted.plugins
from importlib.metadata import files
print(json.dumps({
    "site_packages": sysconfig.get_path("purelib"),
    "twisted": twisted.__file__,
    "twisted.plugins": twisted.plugins.__file__,
    "ours": sorted(str(f) for f in files("twistd-django")),
    "theirs": sorted(str(f) for f in files("twisted")),
}))
"""
REGENERATE = "from twisted.plugin import IPlugin, getPlugins; list(getPlugins(IPlugin))"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_pip_install_of_the_repo_into_a_bare_venv_serves_daemonized(
    built, tmp_path, site_data, request
):
    source, _ = built
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    bin_dir = venv / "bin"
    python, twistd = bin_dir / "python", bin_dir / "twistd"
    elsewhere = tmp_path / "elsewhere"  # Not the repo, not the source copy.
    elsewhere.mkdir()

    # Bare: no Twisted before the install.
    missing = run(python, "-c", "import twisted", cwd=elsewhere, check=False)
    assert "ModuleNotFoundError" in missing.stderr

    # `pip install <path to the repo>`; the dependencies come from the
    # index, at the versions CI pins.
    run(
        *(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
        *("--constraint", CONSTRAINTS, source),
        cwd=elsewhere,
        timeout=480,
    )

    # The install put one module into Twisted's own twisted/plugins folder,
    # and twisted/__init__.py and twisted/plugins/__init__.py are Twisted's.
    found = json.loads(run(python, "-c", INSPECT, cwd=elsewhere).stdout)
    site_packages = Path(found["site_packages"])
    plugins_dir = site_packages / "twisted" / "plugins"
    assert site_packages.is_relative_to(venv)
    assert found["twisted"] == str(site_packages / "twisted" / "__init__.py")
    assert found["twisted.plugins"] == str(plugins_dir / "__init__.py")
    # (pip compiles the modules it installs: their bytecode is in RECORD too.)
    ours = [
        f
        for f in found["ours"]
        if not f.startswith(("twistd_django/", f"{DIST_INFO}/")) and ".pyc" not in f
    ]
    assert ours == [PLUGIN]
    assert {"twisted/__init__.py", "twisted/plugins/__init__.py"} <= set(
        found["theirs"]
    )
    plugin_file = site_packages / PLUGIN
    assert plugin_file.is_file()

    # Regenerate the plugin cache, as the how-to page says: it is written
    # next to the plugin modules, and names ours.
    cache = plugins_dir / "dropin.cache"
    run(python, "-c", REGENERATE, cwd=elsewhere)
    assert b"twistd_django_plugin" in cache.read_bytes()

    # twistd lists the subcommand, with the plugin's description.
    helped = run(twistd, "--help", cwd=elsewhere).stdout
    commands = helped.partition("Commands:")[2]
    line = re.search(r"^ +django +(.*)$", commands, re.MULTILINE)
    assert line, helped
    description = " ".join(plugin_description(source / "src").split())
    assert description.startswith(line.group(1).strip()), line.group(1)

    installed = run(twistd, "django", "--help", cwd=elsewhere).stdout
    for option in ("--settings=", "--listen=", "--threads=", "--static-root="):
        assert option in installed

    # A fresh startproject site, daemonized by the installed plugin, with no
    # PYTHONPATH: the plugin puts the current directory on sys.path.
    project = tmp_path / "project"
    project.mkdir()
    start_project(project, bin_dir, clean_env())
    admin = Twistd(
        workdir=project,
        args=["django", "--settings", "mysite.settings", "--listen", "tcp:{port}"],
        env=clean_env(),
        program=[str(twistd)],
    )
    request.addfinalizer(admin.kill)
    admin.start()
    assert_admin_is_served(admin.port)
    admin.stop()

    # The example site too: only the site is on PYTHONPATH.
    daemon = Twistd(
        workdir=elsewhere,
        args=["django", "--settings", "backupsite.settings", "--listen", "tcp:{port}"],
        env=clean_env(
            PYTHONPATH=str(SITE),
            BACKUPSITE_DATA_DIR=str(site_data),
            DJANGO_SECRET_KEY="test-packaging-secret-key-" + "x" * 40,
        ),
        program=[str(twistd)],
    )
    request.addfinalizer(daemon.kill)
    daemon.start()
    page = get(daemon.port, "/")
    assert page.status == 200
    assert "Backup catalogue" in page.text
    daemon.stop()

    # Uninstalled, the plugin is gone, Twisted still works, and the next scan
    # drops the plugin from the cache.
    run(python, "-m", "pip", "uninstall", "--yes", "twistd-django", cwd=elsewhere)
    assert not plugin_file.exists()
    helped = run(twistd, "--help", cwd=elsewhere).stdout
    assert re.search(r"^ +web +", helped, re.MULTILINE)
    assert not re.search(r"^ +django +", helped, re.MULTILINE)
    assert b"twistd_django_plugin" not in cache.read_bytes()
