"""Security: DEBUG off, the modes of the pidfile and log, dropping root."""

import json
import os
import signal
import socket
import stat
from pathlib import Path

import pytest

from support.http import get
from support.procs import wait_until
from support.reliability import PRODUCTION
from support.results import record
from support.unprivileged import GID, UID, needs_root

GROUP = "Security"
NOBODY, NOBODY_GID = UID, GID
CASES = ["debug-off", "file-modes", "uid-nobody"]


def test_debug_is_off_a_500_shows_no_traceback(twistd):
    daemon = twistd(PRODUCTION)
    response = get(daemon.port, "/boom/")
    assert response.status == 500
    assert "Traceback" not in response.text
    assert "boom: deliberate failure" not in response.text
    assert wait_until(lambda: "boom: deliberate failure" in daemon.log(), 5)
    record(
        "debug-off",
        group=GROUP,
        test="test_reliability_security.py::test_debug_is_off_a_500_shows_no_traceback",
        input="GET /boom/, a view that raises",
        outcome="500 with Django's plain error page; the traceback only in the log",
        figures={"response bytes": len(response.body)},
    )


def test_pidfile_and_log_modes_when_daemonized(twistd):
    daemon = twistd(PRODUCTION)
    pid_mode = stat.S_IMODE(daemon.pidfile.stat().st_mode)
    log_mode = stat.S_IMODE(daemon.logfile.stat().st_mode)
    umask = os.umask(0o022)
    os.umask(umask)
    assert pid_mode == 0o600  # Written after the fork, under umask 0077.
    assert log_mode == 0o666 & ~umask  # Opened before the fork: the shell's umask.
    assert not log_mode & 0o022
    record(
        "file-modes",
        group=GROUP,
        test="test_reliability_security.py::test_pidfile_and_log_modes_when_daemonized",
        input="twistd daemonized (twistd sets umask 0077 after the fork)",
        outcome="pidfile 0600 (written after the fork, umask 0077); log"
        " 0666 less the shell's umask (opened before the fork)",
        figures={
            "pidfile": f"{pid_mode:04o}",
            "log": f"{log_mode:04o}",
            "shell umask": f"{umask:04o}",
        },
    )


def privileged_port():
    for port in range(1023, 900, -1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port below 1024")


def thread_uids(pid):
    uids = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("Uid:"):
                uids.add(tuple(int(n) for n in line.split()[1:]))
    return uids


@needs_root
def test_uid_drop_binds_as_root_and_serves_as_nobody(twistd, unprivileged_site):
    """Root binds the port below 1024, then every thread runs as nobody and
    the site serves its pages: from a copy nobody can read (the checkout, or
    pytest's temporary folder, may be root's alone), with a database nobody
    owns. Without that copy, / was a 500: nobody could not open the SQLite
    file under pytest's mode-0700 folder, nor import the URL conf from a
    checkout under a mode-0700 folder."""
    daemon = twistd(PRODUCTION, start=False, unprivileged=unprivileged_site)
    daemon.port = privileged_port()
    daemon.program = [*daemon.program, f"--uid={NOBODY}", f"--gid={NOBODY_GID}"]
    daemon.start()
    status = get(daemon.port, "/status.json")
    assert status.status == 200
    names = json.loads(status.body)["threads"]
    pool_threads = [name for name in names if name.startswith("PoolThread-wsgi")]
    uids = thread_uids(daemon.pid)
    thread_count = len(list(Path(f"/proc/{daemon.pid}/task").iterdir()))
    assert uids == {(NOBODY,) * 4}  # Real, effective, saved, filesystem.
    assert len(uids) == 1 and len(pool_threads) == 10
    home = get(daemon.port, "/")
    assert home.status == 200, home.text[:500]
    assert "Backup catalogue" in home.text
    daemon.signal(signal.SIGTERM)
    assert wait_until(lambda: not daemon.running(), 30)
    pidfile_left = daemon.pidfile.exists()  # nobody may not remove root's file.
    daemon.pidfile.unlink(missing_ok=True)
    record(
        "uid-nobody",
        group=GROUP,
        test="test_reliability_security.py::"
        "test_uid_drop_binds_as_root_and_serves_as_nobody",
        input=f"started as root with --uid {NOBODY} --gid {NOBODY_GID},"
        " listening on a port below 1024, serving a copy of the site that"
        " nobody can read",
        outcome="binds as root, then every thread runs as nobody;"
        " / and /status.json answer 200",
        figures={
            "GET /": home.status,
            "threads as nobody": thread_count,
            "pidfile left at exit": pidfile_left,
        },
    )
