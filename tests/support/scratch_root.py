"""Run a production how-to's install script in a scratch root, then its units.

The how-tos that take a reader to production (docs/howto/run-under-systemd.rst,
docs/howto/run-behind-nginx.rst) are shell scripts that the pages include
step by step: examples/recipes/systemd/install.sh, then
examples/recipes/nginx/install.sh. :class:`ScratchRoot` runs them as a root
shell would, with every absolute path they write moved under a scratch
folder, and :class:`UnitProcess` runs an installed unit's ``ExecStart=`` as
systemd would. systemd itself cannot run here.

What a scratch root cannot do is stood in for, and recorded:

* ``useradd``, ``id``, ``chgrp``, ``chown``, ``runuser``, ``systemctl``,
  ``systemd-analyze``, ``apt-get`` and ``nginx`` are shims that append their
  arguments to a file (``runuser`` then runs its command as the test's user);
  the tests run the real ``systemd-analyze verify`` and ``nginx`` on what the
  scripts installed.
* ``pip install`` gets no package index: the scratch virtualenv's
  site-packages links to this environment's packages (Twisted, Django,
  hatchling...), but not twistd-django, which pip then builds and installs
  from the repository's files; ``twisted/`` and ``twisted/plugins/`` are
  folders of their own, so that what pip writes there stays in the scratch
  root. Twisted's ``twistd`` script, which pip would write with Twisted, is
  written the same way.
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .http import free_port
from .steps import ROOT

#: The absolute paths that the scripts and their files write or read.
PATHS = (
    "/srv/backupsite",
    "/etc/backupsite",
    "/etc/ssl/backupsite",
    "/etc/nginx",
    "/var/lib/backupsite",
    "/var/log/backupsite",
    "/usr/local/sbin",
    "/etc/systemd/system",
)
#: The recipes' files in which those paths are moved.
MOVED_FILES = (
    "examples/recipes/systemd/install.sh",
    "examples/recipes/systemd/install-workers.sh",
    "examples/recipes/systemd/backupsite-manage",
    "examples/recipes/systemd/backupsite.env",
    "examples/recipes/nginx/install.sh",
)
SHIMS = {
    "id": 'echo "id $*" >> "$CALLS"; exit 1',  # No such user yet.
    "useradd": 'echo "useradd $*" >> "$CALLS"',
    "chgrp": 'echo "chgrp $*" >> "$CALLS"',
    "chown": 'echo "chown $*" >> "$CALLS"',
    "systemctl": 'echo "systemctl $*" >> "$CALLS"',
    "systemd-analyze": 'echo "systemd-analyze $*" >> "$CALLS"',
    "apt-get": 'echo "apt-get $*" >> "$CALLS"',
    "nginx": 'echo "nginx $*" >> "$CALLS"',
    # runuser -u USER -- COMMAND...: run the command as this user.
    "runuser": 'echo "runuser $*" >> "$CALLS"; shift 3; exec "$@"',
}
RUNTIME = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "var", "*.pid", "*.log", "dropin.cache", "*.sqlite3"
)


def unit(path):
    """A unit file as {section: [(key, value), ...]}, continuation lines joined."""
    sections, current, pending = {}, None, ""
    for raw in Path(path).read_text().splitlines():
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        else:
            key, _, value = line.partition("=")
            current.append((key.strip(), value.strip()))
    return sections


def values(section, key):
    return [v for k, v in section if k == key]


def environment_file(path):
    """An EnvironmentFile= as {name: value}: KEY=VALUE lines, # comments."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


class ScratchRoot:
    """A scratch root, a copy of the repository's files, shims, a virtualenv."""

    def __init__(self, base):
        self.base = Path(base)
        self.root = self.base / "root"
        for path in PATHS:
            (self.root / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
        self.repo = self.clone(self.base / "repo")
        self.shims = self.base / "shims"
        self.shims.mkdir()
        for name, body in SHIMS.items():
            (self.shims / name).write_text(f"#!/bin/sh\n{body}\n")
            (self.shims / name).chmod(0o755)
        self.calls_file = self.base / "calls"
        self.venv = self.seed_venv(self.path("/srv/backupsite/venv"))
        self.outputs = []

    def path(self, absolute):
        return self.root / str(absolute).lstrip("/")

    def moved(self, text):
        for path in PATHS:
            text = text.replace(path, f"{self.root}{path}")
        return text

    def clone(self, target):
        """The files the scripts read, with the recipes' paths moved."""
        target.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, target / name)
        shutil.copytree(ROOT / "src", target / "src", ignore=RUNTIME)
        for folder in ("site", "recipes/systemd", "recipes/nginx"):
            shutil.copytree(
                ROOT / "examples" / folder, target / "examples" / folder, ignore=RUNTIME
            )
        for name in MOVED_FILES:
            path = target / name
            path.write_text(self.moved(path.read_text()))
        return target

    @staticmethod
    def seed_venv(venv):
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], check=True, timeout=120
        )
        (site,) = venv.glob("lib/python3*/site-packages")
        ours = Path(next(p for p in sys.path if p.endswith("site-packages")))
        for entry in ours.iterdir():
            name = entry.name
            if name.startswith(("twistd_django", "_twistd_django")):
                continue
            if name == "twisted":
                own = site / "twisted"
                own.mkdir(exist_ok=True)
                for child in entry.iterdir():
                    if child.name == "plugins":
                        plugins = own / "plugins"
                        plugins.mkdir(exist_ok=True)
                        for plugin in child.iterdir():
                            if plugin.name not in ("__pycache__", "dropin.cache"):
                                (plugins / plugin.name).symlink_to(plugin)
                    elif child.name != "__pycache__":
                        (own / child.name).symlink_to(child)
            elif not (site / name).exists():
                (site / name).symlink_to(entry)
        return venv

    def env(self):
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV")
            and not k.startswith(("DJANGO_", "BACKUPSITE_"))
        }
        env.update(
            PATH=os.pathsep.join(
                [str(self.shims), os.path.dirname(sys.executable), env["PATH"]]
            ),
            CALLS=str(self.calls_file),
            PIP_NO_INDEX="1",
            PIP_NO_BUILD_ISOLATION="0",  # pip's spelling of "no isolation".
            PIP_NO_COMPILE="1",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    def run_script(self, script, *args, timeout=300):
        """``sh SCRIPT ARGS...`` from the root of the repository's copy, as
        root would."""
        result = subprocess.run(
            ["sh", script, *args],
            cwd=self.repo,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        self.outputs.append(output)
        twistd = self.venv / "bin" / "twistd"
        if not twistd.exists():  # What pip would have written with Twisted.
            twistd.write_text(
                f"#!{self.venv / 'bin' / 'python'}\n"
                "import sys\n"
                "from twisted.scripts.twistd import run\n"
                "sys.exit(run())\n"
            )
            twistd.chmod(0o755)
        return output

    def calls(self):
        if not self.calls_file.exists():
            return []
        return self.calls_file.read_text().splitlines()

    def verify_units(self, names, tmp_path):
        """The real systemd-analyze verify on installed units, with ExecStart=
        naming the scratch twistd; returns its output (empty: no warning)."""
        analyze = systemd_analyze()
        twistd = str(self.venv / "bin/twistd")
        units = self.path("/etc/systemd/system")
        for path in units.iterdir():
            text = path.read_text().replace("/srv/backupsite/venv/bin/twistd", twistd)
            (tmp_path / path.name).write_text(text)
        result = subprocess.run(
            [analyze, "verify", "--man=no", *(f"./{name}" for name in names)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout + result.stderr


def systemd_analyze():
    """The path of systemd-analyze; skip without it, or fail in CI (the
    variable CI is set), whose .ci/run installs it."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        message = "systemd-analyze is not installed (Debian: apt-get install systemd)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI must verify the units: .ci/run installs it")
        pytest.skip(message)
    return analyze


class UnitProcess:
    """An installed unit's ``ExecStart=``, run as systemd would run it.

    With its ``EnvironmentFile=`` then ``Environment=`` (``%d``: a folder
    that holds a copy of each ``LoadCredential=`` file, ``%i``: the
    instance), in its ``WorkingDirectory=``; through ``launcher`` (the
    socket-activation launcher, with the socket unit's name) if given.
    ``edits`` ({text: replacement}) changes the ``ExecStart=`` line, each
    text of which must be in it: a port of this run for the unit's own.
    """

    def __init__(
        self,
        scratch,
        name,
        workdir,
        instance=None,
        launcher=None,
        socket_name=None,
        credential=True,
        data=None,
        edits=None,
    ):
        root = scratch.root
        unit_file = scratch.path("/etc/systemd/system") / name
        svc = unit(unit_file)["Service"]
        credentials = Path(workdir) / "credentials"  # What LoadCredential= makes.
        credentials.mkdir()
        if credential:
            for entry in values(svc, "LoadCredential"):
                key, source = entry.split(":")
                shutil.copy(scratch.moved(source), credentials / key)
        self.logs = scratch.path("/var/log/backupsite")  # LogsDirectory=.

        def local(text):
            """A value of the unit, or of the installed (already moved) files."""
            if str(root) not in text:
                text = scratch.moved(text)
            text = text.replace("%d", str(credentials))
            if instance is not None:
                text = text.replace("%i", str(instance))
            if data is not None:
                text = text.replace(f"{root}/var/lib/backupsite", str(data))
            return text

        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
        for env_file in values(svc, "EnvironmentFile"):
            for key, value in environment_file(local(env_file)).items():
                env[key] = local(value)
        for assignment in values(svc, "Environment"):
            key, _, value = assignment.partition("=")
            env[key] = local(value)
        self.env = env
        self.timeout = float(values(svc, "TimeoutStopSec")[0])
        exec_start = values(svc, "ExecStart")[0]
        for text, replacement in (edits or {}).items():
            assert text in exec_start, (text, exec_start)
            exec_start = exec_start.replace(text, replacement)
        command = shlex.split(local(exec_start))
        self.port = None
        if launcher is not None:
            self.port = free_port()
            command = [
                sys.executable,
                str(launcher),
                *("--listen", f"127.0.0.1:{self.port}"),
                *("--name", socket_name),
                "--",
                *command,
            ]
        self.process = subprocess.Popen(
            command,
            cwd=local(values(svc, "WorkingDirectory")[0]),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def running(self):
        return self.process.poll() is None

    def journal(self, timeout):
        """What journald would get: the process's output, once it has exited."""
        output, _ = self.process.communicate(timeout=timeout)
        return output

    def stop(self):
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.journal(self.timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.journal(self.timeout)
