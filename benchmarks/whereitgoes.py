"""Where a request's time goes: sample a server under load with py-spy.

py-spy samples every thread of the running process from outside, without
stopping it (``--nonblocking``), and leaves out threads that wait. Each
sample is charged to the innermost frame that belongs to a known part:
"""

import collections
import subprocess
import sys
import threading
from pathlib import Path

import loadgen

BIN = Path(sys.executable).parent

# (part, substrings of a frame's file or function), tried from the innermost
# frame outwards; the first frame that matches names the sample's part.
PARTS = [
    ("access log", (
        "twisted/logger/", "twisted/python/log.py", "twisted/python/logfile.py",
        "twisted/python/util.py", "accesslog.py", "LogFormatter", "logFormatter",
        "_escape (twisted/web/http.py",
        "log (twisted/web/http.py",
    )),
    ("hand-off to the WSGI thread and back", (
        "twisted/web/wsgi.py", "twisted/internet/threads.py",
        "twisted/python/threadpool.py", "twisted/_threads/", "/queue.py",
        "/threading.py", "writeback.py", "inflight.py", "callFromThread",
        "wakeUp", "_signals.py",
    )),
    ("Django", ("/django/", "/catalogue/", "/backupsite/", "whitenoise")),
    ("HTTP parsing and responses", ("twisted/web/", "twistd_django/")),
    ("reactor and sockets", ("twisted/internet/", "socket.py")),
]  # fmt: skip


def part_of(stack):
    for frame in reversed(stack):
        for part, marks in PARTS:
            if any(mark in frame for mark in marks):
                return part
    return "other"


# py-spy cannot always tell a thread that waits on a lock from one that
# runs: a sample whose innermost frame is one of these is an idle worker.
IDLE = ("Condition.wait (", "Event.wait (", "Thread._wait_for_tstate_lock (")


def parse_raw(text):
    """py-spy's raw (collapsed) output: ``frame;frame;... count`` a line."""
    counts = collections.Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if stack and count.isdigit() and not frames[-1].startswith(IDLE):
            counts[part_of(frames)] += int(count)
    return counts


def profile(running, path, connections, seconds, out):
    """Sample ``running`` while wrk loads ``path``: each part's share."""
    load = threading.Thread(
        target=loadgen.run,
        args=(running.url(path), connections, seconds + 2, 1),
        daemon=True,
    )
    load.start()
    raw = out.with_suffix(".txt")
    subprocess.run(
        [
            str(BIN / "py-spy"), "record", "--nonblocking", "--format", "raw",
            "--rate", "200", "--gil", "--full-filenames", "--duration", str(seconds),
            "--pid", str(running.processes[0].pid), "--output", str(raw),
        ],
        check=True, capture_output=True, timeout=seconds + 30,
    )  # fmt: skip
    load.join(seconds + 40)
    counts = parse_raw(raw.read_text())
    total = sum(counts.values()) or 1
    return {part: counts[part] / total for part, _ in [*PARTS, ("other", ())]}
