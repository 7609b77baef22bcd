"""The systemd recipe: hardened units, and socket activation without systemd.

examples/recipes/systemd, documented in docs/howto/run-under-systemd.rst.
The launcher socket_activate.py binds 127.0.0.1 and execs twistd with
LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES, as systemd does.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import sys

import pytest

from support.daemon import TWISTD
from support.foreground import foreground_fixture
from support.http import free_port, get, port_open
from support.procs import is_running, wait_until
from support.recipes import RECIPES
from support.scratch_root import environment_file, systemd_analyze, unit, values
from support.site import SECRET_KEY, site_env
from support.steps import PACKAGE, SITE

RECIPE = RECIPES / "systemd"
LAUNCHER = RECIPE / "socket_activate.py"
SERVICE = RECIPE / "backupsite.service"
SOCKET = RECIPE / "backupsite.socket"
ENV_FILE = RECIPE / "backupsite.env"
# twistd ends by killing itself with the signal that stopped it, so that its
# parent sees why; systemd counts death by SIGTERM as a clean stop.
CLEAN_STOP = (0, -signal.SIGTERM)
TWIST = str(os.path.join(os.path.dirname(TWISTD), "twist"))


@pytest.fixture
def foreground(tmp_path):
    started, start = foreground_fixture(tmp_path)
    yield start
    for process in started:
        process.kill()


def unit_environment(svc, local, env_file=ENV_FILE):
    """The variables the service gets: its EnvironmentFile=, then Environment=."""
    assert values(svc, "EnvironmentFile") == ["/etc/backupsite/backupsite.env"]
    env = {key: local(value) for key, value in environment_file(env_file).items()}
    for assignment in values(svc, "Environment"):
        key, _, value = assignment.partition("=")
        env[key] = local(value)
    return env


@pytest.fixture
def workdir(tmp_path):
    """The service's WorkingDirectory: the code comes from the package."""
    return PACKAGE.copy_to(tmp_path)


def env_for(data):
    env = site_env(data)
    env["PYTHONPATH"] = str(SITE)
    return env


def django_args(listen="systemd:domain=INET:name=web"):
    return ["django", "--settings=backupsite.settings", f"--listen={listen}"]


@pytest.mark.parametrize(
    "server",
    [
        [TWISTD, "--nodaemon", "--pidfile=", "--logfile=-"],
        [TWIST, "--log-format=text"],
    ],
    ids=["twistd-nodaemon", "twist"],
)
def test_socket_activated_in_the_foreground(foreground, workdir, site_data, server):
    port = free_port()
    process = foreground(
        [sys.executable, LAUNCHER, "--listen", f"127.0.0.1:{port}", "--name", "web"]
        + ["--", *server, *django_args()],
        cwd=workdir,
        env=env_for(site_data),
    )
    assert wait_until(lambda: port_open(port) or not process.running(), 10)
    # The socket exists before the server: a request waits in its backlog.
    status = json.loads(get(port, "/status.json", timeout=20).body)
    # exec kept the PID: the process systemd started is the one that serves.
    assert status["pid"] == process.pid
    assert not list(workdir.glob("*.pid")), "no pidfile under systemd"
    assert process.terminate(timeout=10) in CLEAN_STOP, process.log()
    assert "Received SIGTERM, shutting down." in process.log()
    assert not port_open(port)


def test_socket_activated_and_daemonized(twistd, site_data):
    """The daemonizing path adopts the inherited socket too; but the process
    that was started exits, and the server runs under another PID."""
    daemon = twistd(PACKAGE, start=False)
    daemon.args = django_args()
    daemon.program = [
        sys.executable,
        str(LAUNCHER),
        "--listen",
        f"127.0.0.1:{daemon.port}",
        "--name",
        "web",
        "--",
        TWISTD,
    ]
    daemon.start()
    assert daemon.launcher.returncode == 0
    status = json.loads(get(daemon.port, "/status.json").body)
    assert status["pid"] == daemon.pid != daemon.launcher.pid
    assert not is_running(daemon.launcher.pid)
    # The pool's threads were started after the fork: all of them are alive.
    assert status["pool"]["live_threads"] == status["pool"]["workers"] > 0
    daemon.stop()
    assert not port_open(daemon.port)


def test_the_units_agree_and_are_hardened():
    service, socket_unit = unit(SERVICE), unit(SOCKET)
    svc = service["Service"]
    name = values(socket_unit["Socket"], "FileDescriptorName")
    assert name == ["web"]
    assert values(socket_unit["Socket"], "ListenStream") == ["127.0.0.1:8080"]
    command = shlex.split(values(svc, "ExecStart")[0])
    assert command[1:4] == ["--nodaemon", "--pidfile=", "--logfile=-"]
    assert f"--listen=systemd:domain=INET:name={name[0]}" in command
    assert values(service["Unit"], "Requires") == ["backupsite.socket"]
    assert values(svc, "Type") == ["exec"]
    for key, value in [
        ("User", "backupsite"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ]:
        assert values(svc, key) == [value], key
    # TimeoutStopSec leaves SIGTERM the time to drain the requests.
    drain = float(re.search(r"--drain-timeout=(\d+)", " ".join(command))[1])
    assert float(values(svc, "TimeoutStopSec")[0]) > drain


@pytest.mark.parametrize(
    "template",
    [RECIPES / "nginx" / "backupsite@.service", RECIPE / "backupsite-worker@.service"],
    ids=["nginx-backend", "reuseport-worker"],
)
def test_the_templates_have_the_settings_and_hardening_of_the_single_service(
    template,
):
    """Every key of the [Service] section, in order, but the command: the
    nginx how-to's backends and the reuseport workers run as the single
    service does."""
    single = unit(SERVICE)["Service"]
    other = unit(template)["Service"]
    assert [kv for kv in single if kv[0] != "ExecStart"] == [
        kv for kv in other if kv[0] != "ExecStart"
    ]


def test_the_units_command_serves_on_the_socket(
    foreground, workdir, site_data, tmp_path
):
    """Run the ExecStart line of backupsite.service, with this checkout's
    paths, under the launcher, with the unit's Environment= lines."""
    service, socket_unit = unit(SERVICE), unit(SOCKET)
    svc = service["Service"]
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "secret_key").write_text(SECRET_KEY)
    logs = tmp_path / "logs"
    logs.mkdir()
    paths = {
        "/srv/backupsite/venv/bin/twistd": TWISTD,
        "/srv/backupsite/site": str(SITE),
        "/var/lib/backupsite": str(site_data),
        "/var/log/backupsite": str(logs),
        "%d": str(credentials),
    }

    def local(text):
        for unit_path, here in paths.items():
            text = text.replace(unit_path, here)
        return text

    env = site_env(site_data)
    del env["DJANGO_SECRET_KEY"]
    env.update(unit_environment(svc, local))
    port = free_port()
    name = values(socket_unit["Socket"], "FileDescriptorName")[0]
    command = shlex.split(local(values(svc, "ExecStart")[0]))
    process = foreground(
        [sys.executable, LAUNCHER, "--listen", f"127.0.0.1:{port}", "--name", name]
        + ["--", *command],
        cwd=workdir,
        env=env,
    )
    assert wait_until(lambda: port_open(port) or not process.running(), 10)
    live = get(port, "/_twistd/live", timeout=20)
    assert live.status == 200, process.log()
    # The production settings, for the name of DJANGO_ALLOWED_HOSTS: plain
    # HTTP is redirected to HTTPS; another name gets a 400.
    name = environment_file(ENV_FILE)["DJANGO_ALLOWED_HOSTS"]
    home = get(port, "/", headers={"Host": name})
    assert home.status == 301
    assert home.headers["location"] == f"https://{name}/"
    assert get(port, "/", headers={"Host": "other.example.com"}).status == 400
    assert wait_until(lambda: (logs / "access.log").exists(), 5)
    stop_timeout = float(values(svc, "TimeoutStopSec")[0])
    assert process.terminate(timeout=stop_timeout) in CLEAN_STOP


def test_systemd_analyze_verify(tmp_path):
    analyze = systemd_analyze()
    # verify checks that ExecStart's program exists: point it at this twistd.
    for path in (SERVICE, SOCKET):
        text = path.read_text().replace("/srv/backupsite/venv/bin/twistd", TWISTD)
        (tmp_path / path.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", "--man=no", f"./{SOCKET.name}", f"./{SERVICE.name}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # It exits 0 on a misspelt key or a bad value, and only warns: no output.
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""
