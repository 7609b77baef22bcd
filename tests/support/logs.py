"""A running daemon's logs, for the tests: what logrotate does to them, and
the requests that the access log holds."""

import os
import re
import signal

from .procs import read_pid, wait_until

REQUEST = re.compile(r'^\S+ - - \[[^\]]+\] "(\S+) (\S+) [^"]*" (\d{3}) ', re.M)


def rotate(daemon, *paths, timeout=10):
    """What logrotate does: rename each of ``paths`` to ``<name>.1``, then
    send ``SIGUSR1`` to the PID in the daemon's pidfile (``postrotate``).
    Asserts that the daemon opens each path anew within ``timeout`` seconds;
    returns the moved paths, in the same order."""
    moved = []
    for path in paths:
        moved.append(path.rename(path.with_name(f"{path.name}.1")))
    os.kill(read_pid(daemon.pidfile), signal.SIGUSR1)
    for path in paths:
        assert wait_until(path.exists, timeout), f"{path} not opened anew on SIGUSR1"
    return moved


def requests(path):
    """(method, target, status) of each line of an access log in Combined Log
    Format; "-" where the daemon did not know them."""
    if not path.exists():
        return []
    return [
        (method, target, int(status))
        for method, target, status in REQUEST.findall(path.read_text())
    ]
