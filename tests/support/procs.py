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
    except (FileNotFoundError, ProcessLookupError):
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


def kill_hard(pid, timeout=5):
    """SIGKILL ``pid`` if it is still running, and wait for it to go."""
    if is_running(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        wait_until(lambda: not is_running(pid), timeout)


def read_pid(pidfile):
    try:
        return int(Path(pidfile).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def pids_below(directory):
    """PIDs of the processes whose working directory is inside ``directory``."""
    directory = str(Path(directory).resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == directory or cwd.startswith(directory + os.sep):
            found.append(int(entry.name))
    return found
