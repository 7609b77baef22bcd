"""The fix variants, compared: every cell of the table in variants.toml.

docs/explanation/fix-variants.rst renders its table from
examples/variants/variants.toml. Each test here measures one column, for
each variant, against a real twistd, and asserts the value the file claims.
"""

import http.client
import json
import shutil
import signal
import socket
import textwrap
from dataclasses import dataclass, field, fields
from pathlib import Path

import pytest

from support.http import get, hangs
from support.inflight import send_and_wait_until_running
from support.procs import kill_hard, pids_below, wait_until
from support.steps import ROOT, RUNTIME_FILES, STEPS
from support.unprivileged import DROP_ARGS, UID, needs_root

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

VARIANTS_FILE = ROOT / "examples" / "variants" / "variants.toml"
REACTOR_POOL = "twisted.internet.reactor"  # The name of reactor.getThreadPool().
UNPRIVILEGED = DROP_ARGS
NOBODY = UID


@dataclass(frozen=True)
class Run:
    """What the ``twistd`` fixture needs to start something: a Step's shape.

    ``copy_to`` copies the folder ``path`` (or makes an empty one when there
    is none) and, with ``probe``, adds the sitecustomize probe below.
    """

    name: str
    path: str
    args: list
    env: dict = field(default_factory=dict)
    probe: bool = False

    def copy_to(self, directory):
        target = Path(directory) / self.name
        if self.path:
            shutil.copytree(ROOT / self.path, target, ignore=RUNTIME_FILES)
        else:
            target.mkdir()
        if self.probe:
            (target / "sitecustomize.py").write_text(PROBE)
        return target


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

    def run(self, global_args=(), probe=False):
        """``global_args`` are twistd options, put before the variant's."""
        args = [*global_args, *self.args]
        return Run(self.id, self.path, args, self.env, probe)


def load_variants():
    with VARIANTS_FILE.open("rb") as f:
        return [Variant(**entry) for entry in tomllib.load(f)["variant"]]


VARIANTS = load_variants()
EACH = pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)

# A test-only probe, copied beside the variant, which is first on the
# daemon's PYTHONPATH: Python imports a sitecustomize module at startup,
# before twistd reads a single option. The probe records, for every pool
# thread that Twisted starts, the process and the user it started in. It
# opens its file now, as root, in the directory twistd starts in: the
# descriptor survives the forks and the privilege drop.
PROBE = textwrap.dedent(
    """\
    import os
    import threading

    _fd = os.open("probe", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    _start = threading.Thread.start


    def start(self):
        if self.name.startswith("PoolThread-"):
            line = f"{self.name} {os.getpid()} {os.getuid()} {os.geteuid()}\\n"
            os.write(_fd, line.encode())
        return _start(self)


    threading.Thread.start = start
    """
)


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
def test_threads_after_the_fork(twistd, variant):
    """Column after_fork: daemonized, / answers and every worker is alive."""
    daemon = twistd(variant.run())
    if variant.after_fork == "hangs":
        assert hangs(daemon.port, "/", timeout=2)
        return
    page = get(daemon.port, "/", timeout=5)
    assert page.status == 200
    assert "Backup catalogue" in page.text
    state = pool_state(daemon.port)
    assert state["workers"] >= 1
    assert state["live_threads"] == state["workers"]
    # With no request in flight, SIGTERM stops every variant cleanly.
    daemon.stop()


@needs_root
@EACH
def test_threads_after_the_privilege_drop(twistd, unprivileged_site, variant):
    """Column privilege_drop: the uid the process had as each thread started.

    On Linux a setuid() applies to every thread of the process, so a thread's
    own credentials cannot tell when it was born: the probe records the uid
    of the process at the moment each pool thread is started instead. The
    daemon runs from a copy that nobody can read (support/unprivileged.py),
    wherever the checkout is.
    """
    daemon = twistd(
        variant.run(UNPRIVILEGED, probe=True), unprivileged=unprivileged_site
    )
    # /status.json: it needs no database or template. A pool with no thread
    # yet (the reactor's starts with none) starts one for this request.
    state = pool_state(daemon.port)
    assert state["live_threads"] == state["workers"] >= 1
    records = probe_records(daemon)
    assert len(records) >= state["workers"]
    started_as = {(pid, uid, euid) for _, pid, uid, euid in records}
    if variant.privilege_drop == "after":
        assert started_as == {(daemon.pid, NOBODY, NOBODY)}
    else:
        assert variant.privilege_drop == "before"
        assert any(uid == 0 for _, uid, _ in started_as)


@needs_root
def test_the_probe_sees_a_pool_started_before_the_drop(twistd, unprivileged_site):
    """A control for the probe: the broken .tac starts its pool as root."""
    broken = next(s for s in STEPS if s.id == "tac-01-broken")
    run = Run(broken.id, broken.path, [*UNPRIVILEGED, *broken.args], broken.env, True)
    daemon = twistd(run, daemonize=False, unprivileged=unprivileged_site)
    assert pool_state(daemon.port)["workers"] == 5
    records = probe_records(daemon)
    assert len(records) == 5
    assert {(pid, uid) for _, pid, uid, _ in records} == {(daemon.pid, 0)}


@EACH
def test_startup_errors(twistd, variant):
    """Column startup_error: daemonized, with the port already taken."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        daemon = twistd(variant.run(), start=False)
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
def test_sigterm_with_a_request_in_flight(twistd, variant):
    """Columns in_flight_request, exits_on_sigterm and pidfile_removed."""
    daemon = twistd(variant.run())
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
    if not exited:  # Nor does a second SIGTERM help: only SIGKILL does.
        daemon.signal(signal.SIGTERM)
        assert not wait_until(lambda: not daemon.running(), 1)
        kill_hard(daemon.pid)


@EACH
def test_shares_the_reactor_pool(twistd, variant):
    """Column shares_reactor_pool: is the WSGI pool reactor.getThreadPool()?

    The reactor's default resolver calls getaddrinfo in that pool, so when it
    is the WSGI pool, DNS lookups queue behind the requests.
    """
    daemon = twistd(variant.run())
    response = json.loads(get(daemon.port, "/status.json").body)
    in_reactor_pool = response["thread"].startswith(f"PoolThread-{REACTOR_POOL}-")
    assert (response["pool"]["name"] == REACTOR_POOL) == in_reactor_pool
    assert in_reactor_pool == variant.shares_reactor_pool
