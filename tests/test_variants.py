"""The fix variants, compared: every cell of the table in variants.toml.

docs/explanation/fix-variants.rst renders its table from
examples/variants/variants.toml. Each test here measures one column, for
each variant, against a real twistd, and asserts the value the file claims.
"""

import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import textwrap
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from conftest import DAEMONS, site_env
from test_shutdown import send_and_wait_until_running

from support.daemon import Twistd
from support.http import get, hangs
from support.procs import pids_below, wait_until
from support.steps import ROOT, RUNTIME_FILES, SITE, STEPS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

VARIANTS_FILE = ROOT / "examples" / "variants" / "variants.toml"
REACTOR_POOL = "twisted.internet.reactor"  # The name of reactor.getThreadPool().
UNPRIVILEGED = ["--uid", "nobody", "--gid", "nogroup"]
NOBODY = pwd.getpwnam("nobody").pw_uid


@dataclass(frozen=True)
class Variant:
    id: str
    title: str
    path: str
    args: list
    env: dict
    after_fork: str
    privilege_drop: str
    startup_error: str
    in_flight_request: str
    exits_on_sigterm: bool
    pidfile_removed: bool
    shares_reactor_pool: bool


def load_variants():
    with VARIANTS_FILE.open("rb") as f:
        return [Variant(**entry) for entry in tomllib.load(f)["variant"]]


VARIANTS = load_variants()
EACH = pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)

# A test-only probe, put on the daemon's PYTHONPATH as sitecustomize: Python
# imports it at startup, before twistd reads a single option. It records, for
# every pool thread Twisted starts, the process and the user it started in.
# The file is opened now, as root: the descriptor survives the forks and the
# privilege drop, so the probe can write where nobody could open a file.
PROBE = textwrap.dedent(
    """\
    import os
    import threading

    _fd = os.open(os.environ["POOL_PROBE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    _start = threading.Thread.start


    def start(self):
        if self.name.startswith("PoolThread-"):
            line = f"{self.name} {os.getpid()} {os.getuid()} {os.geteuid()}\\n"
            os.write(_fd, line.encode())
        return _start(self)


    threading.Thread.start = start
    """
)


@pytest.fixture
def run_variant(request, tmp_path, site_data):
    """``run_variant(variant)``: a Twistd for a copy of the variant, not started.

    ``variant`` is a Variant, or anything with its ``path``, ``args`` and
    ``env``, such as a step from steps.toml.

    Keyword arguments: ``global_args`` (twistd options before the variant's
    arguments), ``env`` (more variables), ``probe`` (True to load the
    sitecustomize probe; its records are in ``daemon.workdir / "probe"``).
    Every daemon is killed at teardown, and its log shown if the test failed.
    """
    started = request.node.stash.setdefault(DAEMONS, [])

    def build(variant, global_args=(), env=None, probe=False, daemonize=True):
        workdir = tmp_path / f"run{len(started)}"
        workdir.mkdir()
        pythonpath = [str(SITE)]
        if variant.path:
            folder = workdir / Path(variant.path).name
            shutil.copytree(ROOT / variant.path, folder, ignore=RUNTIME_FILES)
            pythonpath.insert(0, str(folder))
        else:
            folder = workdir
        daemon_env = site_env(site_data)
        if probe:
            (workdir / "probe_path").mkdir()
            (workdir / "probe_path" / "sitecustomize.py").write_text(PROBE)
            pythonpath.insert(0, str(workdir / "probe_path"))
            daemon_env["POOL_PROBE"] = str(folder / "probe")
        daemon_env["PYTHONPATH"] = os.pathsep.join(pythonpath)
        daemon_env.update(variant.env)
        daemon_env.update(env or {})
        daemon = Twistd(
            workdir=folder,
            args=[*global_args, *variant.args],
            env=daemon_env,
            daemonize=daemonize,
        )
        request.addfinalizer(daemon.kill)
        started.append(daemon)
        return daemon

    return build


def pool_state(port):
    return json.loads(get(port, "/status.json").body)["pool"]


def probe_records(daemon):
    """(thread name, pid, uid, euid) for each pool thread the daemon started."""
    lines = (daemon.workdir / "probe").read_text().splitlines()
    return [(name, *map(int, ids)) for name, *ids in map(str.split, lines)]


def test_the_variants_file_lists_four_variants():
    assert [v.id for v in VARIANTS] == [
        "multiservice",
        "call-when-running",
        "reactor-threadpool",
        "twistd-web-wsgi",
    ]
    allowed = {
        "after_fork": {"serves", "hangs"},
        "privilege_drop": {"after", "before"},
        "startup_error": {"shell", "log"},
        "in_flight_request": {"completes", "cut-off", "no-response"},
        "exits_on_sigterm": {True, False},
        "pidfile_removed": {True, False},
        "shares_reactor_pool": {True, False},
    }
    for variant in VARIANTS:
        for name, values in allowed.items():
            assert getattr(variant, name) in values, (variant.id, name)
        if variant.path:
            assert (ROOT / variant.path).is_dir()
    assert set(allowed) | {"id", "title", "path", "args", "env"} == {
        f.name for f in fields(Variant)
    }


@EACH
def test_threads_after_the_fork(run_variant, variant):
    """Column after_fork: daemonized, / answers and every worker is alive."""
    daemon = run_variant(variant).start()
    if variant.after_fork == "hangs":
        assert hangs(daemon.port, "/", timeout=2)
        return
    page = get(daemon.port, "/", timeout=5)
    assert page.status == 200
    assert "Backup catalogue" in page.text
    state = pool_state(daemon.port)
    assert state["workers"] >= 1
    assert state["live_threads"] == state["workers"]


@EACH
def test_threads_after_the_privilege_drop(run_variant, variant):
    """Column privilege_drop: the uid the process had as each thread started.

    On Linux a setuid() applies to every thread of the process, so a thread's
    own credentials cannot tell when it was born: the probe records the uid
    of the process at the moment each pool thread is started instead.
    """
    assert os.getuid() == 0, "this test starts twistd as root"
    daemon = run_variant(variant, global_args=UNPRIVILEGED, probe=True).start()
    # /status.json, because it answers without the database or templates, which
    # the daemon, now nobody, may not be allowed to read. A pool with no thread
    # yet (the reactor's starts with none) starts one for this request.
    state = pool_state(daemon.port)
    assert state["live_threads"] == state["workers"] >= 1
    records = probe_records(daemon)
    assert len(records) >= state["workers"]
    uid = NOBODY if variant.privilege_drop == "after" else 0
    for name, pid, thread_uid, thread_euid in records:
        assert pid == daemon.pid, name
        assert (thread_uid, thread_euid) == (uid, uid), name


def test_the_probe_sees_a_pool_started_before_the_drop(run_variant):
    """A control for the probe: the broken .tac starts its pool as root."""
    broken = next(s for s in STEPS if s.id == "tac-01-broken")
    daemon = run_variant(broken, global_args=UNPRIVILEGED, probe=True, daemonize=False)
    daemon.start()
    assert pool_state(daemon.port)["workers"] == 5
    records = probe_records(daemon)
    assert len(records) == 5
    assert {(pid, uid) for _, pid, uid, _ in records} == {(daemon.pid, 0)}


@EACH
def test_startup_errors(run_variant, variant):
    """Column startup_error: daemonized, with the port already taken."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        daemon = run_variant(variant)
        daemon.port = taken.getsockname()[1]
        status = daemon.launch()
        output = daemon.output.decode(errors="replace")
        # Whatever the shell saw, the daemon must not survive the error.
        assert wait_until(lambda: not pids_below(daemon.workdir), 5)
    assert "Address already in use" in daemon.log()
    assert not daemon.pidfile.exists()
    if variant.startup_error == "shell":
        assert status == 1
        assert "CannotListenError" in output
    else:
        assert status == 0
        assert "CannotListenError" not in output


@EACH
def test_sigterm_with_a_request_in_flight(run_variant, variant):
    """Columns in_flight_request, exits_on_sigterm and pidfile_removed."""
    daemon = run_variant(variant).start()
    request = send_and_wait_until_running(daemon, "/slow/?seconds=2", timeout=6)
    daemon.signal(signal.SIGTERM)
    request.join(8)
    assert not request.is_alive()
    if request.response is not None:
        assert request.response.status == 200
        assert request.response.text == "slept 2.0 s\n"
        outcome = "completes"
    elif isinstance(request.error, TimeoutError):
        outcome = "no-response"
    else:
        closed = (http.client.RemoteDisconnected, ConnectionResetError)
        assert isinstance(request.error, closed), request.error
        outcome = "cut-off"
    assert outcome == variant.in_flight_request
    # The view is done by now, or within 2 s: a process that stops at all
    # has long exited 4 s later.
    exited = wait_until(lambda: not daemon.running(), 4)
    assert exited == variant.exits_on_sigterm
    assert (not daemon.pidfile.exists()) == variant.pidfile_removed


@EACH
def test_shares_the_reactor_pool(run_variant, variant):
    """Column shares_reactor_pool: is the WSGI pool reactor.getThreadPool()?

    The reactor's default resolver calls getaddrinfo in that pool, so when it
    is the WSGI pool, DNS lookups queue behind the requests.
    """
    daemon = run_variant(variant).start()
    response = json.loads(get(daemon.port, "/status.json").body)
    in_reactor_pool = response["thread"].startswith(f"PoolThread-{REACTOR_POOL}-")
    assert (response["pool"]["name"] == REACTOR_POOL) == in_reactor_pool
    assert in_reactor_pool == variant.shares_reactor_pool
