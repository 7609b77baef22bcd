"""A signal handler that logs, landing in the middle of its own thread's log
write, must neither wait forever for the file's lock nor lose or repeat a
line (``twistd_django.logfile.ReopeningFile``). Real signals, in a process of
their own: a deadlock there ends in a timeout, not in a hung test run."""

import json
import re
import subprocess
import sys

SECONDS = 2.0

# ``python -c STORM PATH SECONDS``: write log lines through a ReopeningFile
# while a signal handler, run every half millisecond, writes its own lines
# through the same file; print how many lines each wrote.
STORM = """
import json
import signal
import sys
import time

from twisted.logger import Logger, LogPublisher, textFileLogObserver

from twistd_django.logfile import ReopeningFile

INTERVAL = 0.0005  # Seconds from one handler's end to the next signal.


def main(path, seconds):
    log = Logger(observer=LogPublisher(textFileLogObserver(ReopeningFile(path))))
    handled, stopping = 0, False

    def handler(signum, frame):
        nonlocal handled
        handled += 1
        log.info("handler {n}", n=handled)
        if not stopping:
            signal.setitimer(signal.ITIMER_REAL, INTERVAL)

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, INTERVAL)
    written, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        log.info("main {n}", n=written)
        written += 1
    stopping = True
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    print(json.dumps({"main": written, "handler": handled}))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
"""


def numbers(lines, who):
    return [int(m[1]) for line in lines if (m := re.search(rf"\] {who} (\d+)$", line))]


def test_a_handler_that_logs_inside_a_log_write_neither_hangs_nor_loses_a_line(
    tmp_path,
):
    path = tmp_path / "storm.log"
    try:
        done = subprocess.run(
            [sys.executable, "-c", STORM, str(path), str(SECONDS)],
            capture_output=True,
            text=True,
            timeout=SECONDS + 20,
            check=True,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"deadlocked: no exit {SECONDS + 20:g} s into a {SECONDS:g} s run"
        ) from None
    counts = json.loads(done.stdout)
    lines = path.read_text().splitlines()
    assert counts["handler"] > 100, counts  # The signals did interrupt.
    assert numbers(lines, "main") == list(range(counts["main"]))
    assert numbers(lines, "handler") == list(range(1, counts["handler"] + 1))
    assert len(lines) == counts["main"] + counts["handler"]
