"""Helpers for the reliability tests: raw HTTP, and the daemon's resources."""

import contextlib
import http.client
import socket
import sqlite3
import time
import urllib.parse
from pathlib import Path

from .daemon import Twistd
from .http import get
from .site import site_env
from .steps import PACKAGE, SITE

PRODUCTION = PACKAGE
HOST = "127.0.0.1"


@contextlib.contextmanager
def production_daemon(workdir, data, extra_args=(), daemonize=True):
    """Run the production step in ``workdir``, for a whole test module."""
    folder = PRODUCTION.copy_to(workdir)
    env = site_env(data)
    env["PYTHONPATH"] = f"{folder}:{SITE}"
    daemon = Twistd(
        workdir=folder,
        args=[*PRODUCTION.args, *extra_args],
        env=env,
        daemonize=daemonize,
    )
    try:
        yield daemon.start()
    finally:
        daemon.kill()


class Outcome(str):
    """What came back instead of a status line; compares unequal to any int."""

    def __repr__(self):
        return f"<{self}>"


#: The server closed the connection without sending a status line.
CLOSED = Outcome("closed without a response")
#: Nothing came before the timeout, and the connection is still open: a hang.
TIMED_OUT = Outcome("no reply before the timeout, connection still open")


def exchange(port, data, timeout=10.0, half_close=False):
    """Send ``data`` as is; return (status, reply bytes, seconds).

    The status is the reply's HTTP status (an int) when one came, else
    CLOSED when the server closed the connection first (or sent bytes that
    are not a status line), and TIMED_OUT when nothing came within
    ``timeout`` seconds: a hang is never taken for a close. A reply that
    came, on a connection the server then kept open, has its status; read
    the reply's headers to tell whether it said ``Connection: close``.
    ``timeout`` bounds the wait only for a server that does not answer:
    an answer returns at once, so give it room for a loaded machine.
    """
    started = time.monotonic()
    deadline = started + timeout
    chunks = []
    timed_out = False
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                timed_out = True
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    reply = b"".join(chunks)
    seconds = time.monotonic() - started
    if reply.startswith(b"HTTP/1.") and len(reply.split(None, 2)) >= 2:
        try:
            return int(reply.split()[1]), reply, seconds
        except ValueError:
            pass
    if timed_out and not reply:
        return TIMED_OUT, reply, seconds
    return CLOSED, reply, seconds


def timed_get(port, path, timeout=10.0):
    """GET ``path``: (status, seconds)."""
    started = time.monotonic()
    response = get(port, path, timeout=timeout)
    return response.status, time.monotonic() - started


def post_report(port, label, timeout=30.0):
    """POST a snapshot report, the view that writes a row: its status."""
    body = urllib.parse.urlencode(
        {"host": "load", "label": label, "size_bytes": "1", "status": "ok"}
    )
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(
            "POST",
            "/snapshots/report/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def rows(data_dir, label_prefix):
    """The snapshot rows whose label starts with ``label_prefix``."""
    uri = f"file:{Path(data_dir) / 'db.sqlite3'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=20)) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM catalogue_snapshot WHERE label LIKE ?",
            (label_prefix + "%",),
        ).fetchone()
    return count


def fds(pid):
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def threads(pid):
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def settles(measure, target, timeout, interval=0.1):
    """Poll ``measure()`` until it is at most ``target``; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = measure()
        if value <= target or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def ms(seconds):
    return round(seconds * 1000, 1)
