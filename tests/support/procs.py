"""Processes on Linux, read from /proc: alive, zombie or gone."""

import os
import signal
import time
from pathlib import Path


def is_running(pid):
    """True while ``pid`` exists and has not exited.

    ``kill -0`` also answers for a zombie, and on these machines an exited
    daemon can stay a zombie for a second or two, so read its state instead.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X")


def wait_until(predicate, timeout, interval=0.05):
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_for_exit(pids, timeout):
    """Wait up to ``timeout`` seconds for ``pids`` to exit; return the PIDs
    still running."""
    pids = list(pids)
    wait_until(lambda: not any(is_running(pid) for pid in pids), timeout)
    return [pid for pid in pids if is_running(pid)]


def kill_hard(pid, timeout=5):
    """SIGKILL ``pid`` if it is still running, and wait for it to go."""
    if is_running(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        wait_until(lambda: not is_running(pid), timeout)


def read_pid(pidfile):
    """The PID that ``pidfile`` starts with, or None if it has none or cannot
    be read."""
    try:
        return int(Path(pidfile).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cwd_is_below(pid, directory):
    """Whether the working directory of ``pid`` is ``directory`` or inside it;
    False if it cannot be read."""
    directory = str(directory)
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return cwd == directory or cwd.startswith(directory + os.sep)


def pids_below(directory):
    """PIDs of the processes whose working directory is inside ``directory``."""
    directory = Path(directory).resolve()
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit()
        and int(entry.name) != os.getpid()
        and cwd_is_below(entry.name, directory)
    ]
