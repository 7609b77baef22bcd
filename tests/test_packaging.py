"""The final plugin builds as a wheel, and installs into a clean venv.

The wheel is built offline, from a copy of the step's folder, with the
build backend of the test environment (hatchling, from the ``test`` extra).
Installing it into a new virtual environment fetches Twisted and Django
from the package index, pinned by requirements/ci.txt: that test is the
slow one (``-m "not slow"`` leaves it out).
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

from support.daemon import Twistd
from support.http import get
from support.steps import FINAL_TAP, ROOT, SITE

WHEEL_NAME = "twistd_django-0.1.0-py3-none-any.whl"
DIST_INFO = "twistd_django-0.1.0.dist-info"
PLUGIN = "twisted/plugins/django_site.py"
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
        path.relative_to(folder).as_posix()
        for path in (folder / "twistd_django").rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".pyc", ".pyo")
        and path.name != "dropin.cache"
    }


def plugin_description(folder):
    """The ``description`` of the service maker in the plugin module."""
    tree = ast.parse((folder / PLUGIN).read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["description"]
            and isinstance(node.value, ast.Constant)
        ):
            return node.value.value
    raise AssertionError(f"no description = '...' in {PLUGIN}")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Copy the step's folder, with runtime files planted in it, and build.

    Returns (source copy, wheel path). Nothing is written into the repo.
    """
    if importlib.util.find_spec("hatchling") is None:
        pytest.fail("hatchling, the build backend, is missing: see the test extra")
    base = tmp_path_factory.mktemp("packaging")
    source = base / "src"
    shutil.copytree(FINAL_TAP.folder, source)
    assert (source / "pyproject.toml").is_file(), (
        f"{FINAL_TAP.path} is the final step: it needs its pyproject.toml"
    )
    # What a developer's folder holds after a run: the wheel must leave it out.
    (source / "twisted" / "plugins" / "dropin.cache").write_bytes(b"stale")
    pycache = source / "twistd_django" / "__pycache__"
    pycache.mkdir(exist_ok=True)
    (pycache / "options.cpython-311.pyc").write_bytes(b"stale")
    (source / "twistd_django" / "dropin.cache").write_bytes(b"stale")

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
    assert ("Version", "0.1.0") in fields
    assert ("Requires-Python", ">=3.10") in fields
    requires = sorted(v for k, v in fields if k == "Requires-Dist")
    assert requires == ["django>=5.2", "twisted>=26.10"]


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
def test_wheel_installs_into_a_clean_venv_and_twistd_finds_the_plugin(
    built, tmp_path, site_data, request
):
    source, wheel = built
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    twistd = venv / "bin" / "twistd"
    elsewhere = tmp_path / "elsewhere"  # Not the repo, not the source copy.
    elsewhere.mkdir()

    # Clean: no Twisted before the install.
    missing = run(python, "-c", "import twisted", cwd=elsewhere, check=False)
    assert "ModuleNotFoundError" in missing.stderr

    # The dependencies come from the index, at the versions CI pins.
    run(
        *(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
        *("--constraint", CONSTRAINTS, wheel),
        cwd=elsewhere,
        timeout=480,
    )

    # The wheel put one module into Twisted's own twisted/plugins folder, and
    # twisted/__init__.py and twisted/plugins/__init__.py are Twisted's still.
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
    assert (plugins_dir / "django_site.py").is_file()

    # Regenerate the plugin cache, as the how-to page says: it is written
    # next to the plugin modules, and names ours.
    cache = plugins_dir / "dropin.cache"
    run(python, "-c", REGENERATE, cwd=elsewhere)
    assert b"django_site" in cache.read_bytes()

    # twistd lists the subcommand, with the plugin's description.
    helped = run(twistd, "--help", cwd=elsewhere).stdout
    commands = helped.partition("Commands:")[2]
    line = re.search(r"^ +django +(.*)$", commands, re.MULTILINE)
    assert line, helped
    description = " ".join(plugin_description(source).split())
    assert description.startswith(line.group(1).strip()), line.group(1)

    installed = run(twistd, "django", "--help", cwd=elsewhere).stdout
    for option in ("--settings=", "--listen=", "--threads=", "--static-root="):
        assert option in installed

    # The installed plugin serves the example site, daemonized: only the
    # site is on PYTHONPATH, not the step's folder.
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
    assert not (plugins_dir / "django_site.py").exists()
    helped = run(twistd, "--help", cwd=elsewhere).stdout
    assert re.search(r"^ +web +", helped, re.MULTILINE)
    assert not re.search(r"^ +django +", helped, re.MULTILINE)
    assert b"django_site" not in cache.read_bytes()

    # The installed plugin had the options of the source tree's plugin.
    from_source = run(
        *(twistd, "django", "--help"),
        cwd=elsewhere,
        env=clean_env(PYTHONPATH=str(source)),
    ).stdout
    assert installed == from_source
