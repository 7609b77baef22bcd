"""The multicore recipe: N twistd workers share one listening socket.

examples/recipes/multicore, documented in docs/howto/use-more-than-one-core.rst.
The parent (``twistd multicore``) binds, spawns the workers with the socket as
file descriptor 3 (``spawnProcess(childFDs=...)``) and the ``systemd:``
endpoint's variables, restarts a worker that dies, and stops them all.
"""

import json
import os
import signal
import time
from pathlib import Path

import pytest

from support.daemon import TWISTD
from support.http import get
from support.procs import is_running, kill_hard, pids_below, wait_until
from support.recipes import start_recipe

WORKERS = 3


def children(pid):
    """The PIDs whose parent is ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return sorted(found)


def start(twistd, daemonize=True):
    daemon = start_recipe(
        twistd,
        "multicore",
        [
            "multicore",
            "--bind=127.0.0.1:{port}",
            f"--workers={WORKERS}",
            "--stop-timeout=20",
            "--",
            TWISTD,
            "--nodaemon",
            "--pidfile=",
            "--logfile=-",
            "django",
            "--settings=backupsite.settings",
            "--listen=systemd:domain=INET:name=web",
            "--threads=2",
        ],
        daemonize=daemonize,
    )
    assert wait_until(lambda: len(children(daemon.pid)) == WORKERS, 10), daemon.log()
    return daemon


def serving_pids(daemon, expected, timeout=20):
    """Send requests, each on a new connection, until every expected PID has
    answered one (or the time is up); return the PIDs that answered."""
    seen = set()
    deadline = time.monotonic() + timeout
    while not expected <= seen and time.monotonic() < deadline:
        seen.add(json.loads(get(daemon.port, "/status.json", timeout=10).body)["pid"])
    return seen


def cmdline(pid):
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")


def runs_twistd(pid):
    """Whether worker_exec.py in ``pid`` has exec'd the worker's twistd.

    Same PID, new command line: ``python twistd --nodaemon ...``. Until then
    it reads as the parent's (just forked), as worker_exec.py's, or empty
    (the kernel is inside ``execve``), so a new worker is waited for.
    """
    return cmdline(pid)[1:3] == [TWISTD.encode(), b"--nodaemon"]


@pytest.mark.parametrize("daemonize", [True, False], ids=["daemonized", "foreground"])
def test_every_worker_serves_and_sigterm_stops_them_all(twistd, daemonize):
    daemon = start(twistd, daemonize)
    workers = set(children(daemon.pid))
    assert wait_until(lambda: all(map(runs_twistd, workers)), 10), {
        pid: cmdline(pid) for pid in workers
    }
    assert serving_pids(daemon, workers) == workers
    daemon.stop(timeout=20)  # SIGTERM to the parent; asserts it exits.
    assert not [pid for pid in workers if is_running(pid)], "orphaned workers"
    assert pids_below(daemon.workdir) == []
    log = daemon.log()
    assert log.count("Server Shut Down.") == WORKERS + 1  # Each worker, cleanly.
    assert "All workers ended" in log


def test_a_worker_that_dies_is_replaced(twistd):
    daemon = start(twistd)
    before = children(daemon.pid)
    kill_hard(before[0])
    assert wait_until(
        lambda: (
            len(children(daemon.pid)) == WORKERS
            and before[0] not in children(daemon.pid)
        ),
        10,
    ), daemon.log()
    after = set(children(daemon.pid))
    assert serving_pids(daemon, after) == after
    daemon.stop(timeout=20)
    assert not [pid for pid in after if is_running(pid)]


def test_no_orphan_even_when_the_parent_is_killed(twistd):
    daemon = start(twistd)
    workers = children(daemon.pid)
    os.kill(daemon.pid, signal.SIGKILL)
    # PR_SET_PDEATHSIG: the kernel sends each worker SIGTERM.
    assert wait_until(lambda: not any(is_running(pid) for pid in workers), 15)
