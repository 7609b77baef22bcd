"""Faults: SIGTERM under load, kill -9 and a restart, a bad database."""

import contextlib
import json
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from support.http import get
from support.procs import wait_until
from support.reliability import PRODUCTION, post_report, rows
from support.results import record
from support.site import prepare_site

GROUP = "Faults"
IN_FLIGHT = 20
CASES = [
    "sigterm-20-in-flight",
    "kill-9-and-restart",
    "database-missing",
    "database-not-migrated",
    "database-read-only",
]


def in_flight(port, earlier_probes):
    """Requests running or queued in the pool, as /_twistd/ready reports
    them from the reactor thread. Each earlier probe left a no-op queued."""
    stats = json.loads(get(port, "/_twistd/ready").body)
    return stats["busy"] + stats["queued"] - earlier_probes


def test_sigterm_with_20_requests_in_flight(twistd):
    daemon = twistd(
        PRODUCTION, extra_args=["--drain-timeout", "15", "--ready-timeout", "0.1"]
    )
    results = [None] * IN_FLIGHT

    def client(n):
        try:
            results[n] = get(daemon.port, "/slow/?seconds=2", timeout=20).status
        except Exception as error:  # noqa: BLE001 - the test reports it
            results[n] = repr(error)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(IN_FLIGHT)]
    for thread in clients:
        thread.start()
    probes = []
    assert wait_until(
        lambda: probes.append(1) or in_flight(daemon.port, len(probes) - 1) >= 20, 5
    )
    signalled = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_stopped(15)
    exited_after = time.monotonic() - signalled
    for thread in clients:
        thread.join(10)

    assert results == [200] * IN_FLIGHT
    assert exited_after < 15
    record(
        "sigterm-20-in-flight",
        group=GROUP,
        test="test_reliability_faults.py::test_sigterm_with_20_requests_in_flight",
        input="SIGTERM with 20 requests for a 2 s view in flight:"
        " 10 running, 10 queued; --drain-timeout 15",
        outcome="all 20 complete with a 200, then the daemon exits",
        figures={"exited after s": round(exited_after, 1), "200s": IN_FLIGHT},
    )


def test_kill_9_during_writes_then_a_restart(twistd, tmp_path):
    data = prepare_site(tmp_path / "data")
    daemon = twistd(PRODUCTION, data=data)
    created, stop = [], threading.Event()

    def writer(n):
        for i in range(1000):
            if stop.is_set():
                return
            with contextlib.suppress(OSError):
                if post_report(daemon.port, f"kill9-{n}-{i}", timeout=5) == 201:
                    created.append(1)

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(10)]
    for thread in writers:
        thread.start()
    assert wait_until(lambda: len(created) >= 50, 10)
    old_pid = daemon.pid
    daemon.signal(signal.SIGKILL)
    assert wait_until(lambda: not daemon.running(), 5)
    stop.set()
    for thread in writers:
        thread.join(10)
    assert daemon.pidfile.exists()  # Stale: its process is gone.
    # twistd takes a PID that still exists for a running twistd: wait until
    # the zombie is reaped (here by PID 1, which may take a second or two).
    killed = time.monotonic()
    assert wait_until(lambda: not Path(f"/proc/{old_pid}").exists(), 10)
    reaped_after = time.monotonic() - killed

    daemon.start()
    assert daemon.pid != old_pid
    assert "Removing stale pidfile" in daemon.log()
    assert get(daemon.port, "/plain/").status == 200
    written = rows(data, "kill9-")
    assert written >= len(created)  # No 201 without its row.
    db = sqlite3.connect(f"file:{data / 'db.sqlite3'}?mode=ro", uri=True)
    with contextlib.closing(db):
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    record(
        "kill-9-and-restart",
        group=GROUP,
        test="test_reliability_faults.py::test_kill_9_during_writes_then_a_restart",
        input="kill -9 while 10 clients write rows, then the same command again",
        outcome="twistd removes the stale pidfile and starts; every 201's row"
        " is there; the SQLite file passes its integrity check",
        figures={
            "201s before the kill": len(created),
            "rows": written,
            "zombie reaped after s": round(reaped_after, 1),
        },
    )


def launch_with(twistd, data, extra_args=()):
    daemon = twistd(PRODUCTION, data=data, start=False, extra_args=extra_args)
    started = time.monotonic()
    status = daemon.launch()
    return daemon, status, daemon.output.decode(), time.monotonic() - started


def test_missing_database_is_a_clear_error(twistd, tmp_path):
    data = tmp_path / "no-data"
    daemon, status, output, seconds = launch_with(twistd, data)
    assert status == 1
    expected = f"database 'default' ({data / 'db.sqlite3'}): no such file;"
    assert expected in output
    assert "Traceback" not in output
    assert not (data / "db.sqlite3").exists()  # Not created empty.
    assert not daemon.pidfile.exists()
    record(
        "database-missing",
        group=GROUP,
        test="test_reliability_faults.py::test_missing_database_is_a_clear_error",
        input="BACKUPSITE_DATA_DIR names a folder with no database",
        outcome="exit status 1: database 'default' (…/db.sqlite3): no such file;"
        " run manage.py migrate.",
        figures={"failed after s": round(seconds, 1)},
    )


def test_database_not_migrated_is_a_clear_error(twistd, tmp_path):
    data = tmp_path / "empty"
    data.mkdir()
    (data / "db.sqlite3").touch()
    _, status, output, seconds = launch_with(twistd, data)
    assert status == 1
    assert "unapplied migration(s); run migrate." in output
    assert "Traceback" not in output
    record(
        "database-not-migrated",
        group=GROUP,
        test="test_reliability_faults.py::test_database_not_migrated_is_a_clear_error",
        input="an empty database file",
        outcome="exit status 1: … N unapplied migration(s); run migrate.",
        figures={"failed after s": round(seconds, 1)},
    )


@pytest.fixture
def immutable(tmp_path):
    """A migrated database that not even root can write (chattr +i)."""
    data = prepare_site(tmp_path / "read-only")
    db = data / "db.sqlite3"
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode:
        pytest.skip("chattr +i is not supported here")
    yield data
    subprocess.run(["chattr", "-i", str(db)], check=True)


def test_read_only_database_is_a_clear_error(twistd, immutable):
    _, status, output, seconds = launch_with(
        twistd, immutable, extra_args=["--db-write-check", "yes"]
    )
    assert status == 1
    assert "attempt to write a readonly database." in output
    assert "Traceback" not in output
    record(
        "database-read-only",
        group=GROUP,
        test="test_reliability_faults.py::test_read_only_database_is_a_clear_error",
        input="a database file that cannot be written (chattr +i: root is root),"
        " with --db-write-check yes",
        outcome="exit status 1: … attempt to write a readonly database.",
        figures={"failed after s": round(seconds, 1)},
    )


def test_the_default_database_check_only_reads(twistd, immutable):
    """A read-only database passes the default check: the site serves pages."""
    daemon = twistd(PRODUCTION, data=immutable)
    assert get(daemon.port, "/").status == 200
