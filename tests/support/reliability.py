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


def exchange(port, data, timeout=3.0, half_close=False):
    """Send ``data`` as is; return (status or None, reply bytes, seconds).

    The status is None when the server closed without answering; a reply
    of b"<no reply>" means that nothing came before ``timeout``.
    """
    started = time.monotonic()
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        deadline = started + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return None, b"<no reply>", time.monotonic() - started
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    reply = b"".join(chunks)
    status = int(reply.split()[1]) if reply.startswith(b"HTTP/1.") else None
    return status, reply, time.monotonic() - started


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
