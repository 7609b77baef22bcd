"""Log rotation with the distribution's own logrotate, while the daemon
serves: after each rotation new lines go to the new file, and across the
files no line is lost or written twice. logrotate moves the files, then
sends SIGUSR1 (postrotate); the daemon opens --logfile and --access-log
anew (twistd_django.logfile)."""

import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from support.http import get
from support.procs import wait_until
from support.reliability import PRODUCTION
from support.results import record

GROUP = "Operations"
CASES = ["logrotate-twistd-log", "logrotate-access-log"]
ROTATIONS = 3
CONFIG = """\
{logs} {{
    rotate 10
    missingok
    nocompress
    sharedscripts
    postrotate
        kill -USR1 $(cat {pidfile})
    endscript
}}
"""


def logrotate():
    found = shutil.which("logrotate") or (
        "/usr/sbin/logrotate" if os.path.exists("/usr/sbin/logrotate") else None
    )
    if not found:
        message = "logrotate is needed (apt-get install logrotate; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


class Client(threading.Thread):
    """GET /plain/?n=N, N = 0, 1, 2..., until stopped; keeps each N answered."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.answered = port, threading.Event(), []

    def run(self):
        n = 0
        while not self.stop.is_set():
            if get(self.port, f"/plain/?n={n}", timeout=10).status == 200:
                self.answered.append(n)
            n += 1


def numbers(path):
    return [int(n) for n in re.findall(r"GET /plain/\?n=(\d+) ", path.read_text())]


@pytest.mark.parametrize("which", ["twistd-log", "access-log"])
def test_logrotate_while_serving_loses_and_repeats_no_line(twistd, tmp_path, which):
    tool = logrotate()
    access = tmp_path / "access.log"
    extra = ["--access-log", str(access)] if which == "access-log" else []
    daemon = twistd(PRODUCTION, extra_args=extra)
    log = access if which == "access-log" else daemon.logfile
    config = tmp_path / "logrotate.conf"
    config.write_text(
        CONFIG.format(logs=f"{daemon.logfile} {access}", pidfile=daemon.pidfile)
    )
    state = tmp_path / "logrotate.state"
    client = Client(daemon.port)
    client.start()
    try:
        for _ in range(ROTATIONS):
            time.sleep(0.7)
            subprocess.run(
                [tool, "--state", str(state), "--force", str(config)],
                check=True,
                timeout=30,
                capture_output=True,
            )
            # The new file fills: new lines go to it, not to the moved one.
            assert wait_until(lambda: log.exists() and numbers(log), 10), which
        time.sleep(0.7)
    finally:
        client.stop.set()
        client.join(15)
    daemon.stop()  # Every line written and flushed at exit.

    files = [log, *(log.with_name(f"{log.name}.{i}") for i in range(1, 11))]
    files = [f for f in files if f.exists()]
    assert len(files) == ROTATIONS + 1, files
    per_file = [numbers(f) for f in files]
    assert all(per_file), [len(p) for p in per_file]  # None left empty.
    # Oldest file first: each one's lines all come before the next one's.
    ordered = list(reversed(per_file))
    for older, newer in zip(ordered, ordered[1:], strict=False):
        assert max(older) < min(newer)
    logged = sorted(n for p in per_file for n in p)
    assert logged == sorted(client.answered)  # None lost, none twice.
    if which == "twistd-log":
        assert "Server Shut Down." in log.read_text()
    record(
        f"logrotate-{which}",
        group=GROUP,
        test="test_reliability_logrotate.py::"
        "test_logrotate_while_serving_loses_and_repeats_no_line",
        input=f"logrotate (rename, then SIGUSR1) run {ROTATIONS} times on the"
        + (" twistd log" if which == "twistd-log" else " --access-log file")
        + ", with requests coming all the while",
        outcome="new lines in the new file after each rotation; every response"
        " logged once, across the files",
        figures={
            "responses": len(client.answered),
            "lines across the files": len(logged),
            "lines per file, newest first": " / ".join(str(len(p)) for p in per_file),
        },
    )
