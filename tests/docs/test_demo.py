"""`make demo` serves the final example and the docs; `make stop` ends it.

The test runs make with BIN set to this Python's bin/, and with its install
step (`$(BIN)/.installed`) marked as done (`make -o`): in a nox session, the
install step would put requirements/ci.txt's pins over the versions the
session chose, and the tests after this one would run on those instead.
"""

import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

from support.http import free_port, get
from support.procs import is_running, kill_hard, read_pid
from support.steps import ROOT


def installed():
    return {(d.metadata["Name"] or "").lower(): d.version for d in distributions()}


def make(*args, timeout=300):
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [
            *("make", "--no-print-directory", f"BIN={bin_dir}"),
            *("--old-file", f"{bin_dir}/.installed"),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_make_demo_then_make_stop(tmp_path):
    port = free_port()
    demo = tmp_path / "demo"
    pidfile = demo / "twistd.pid"
    before = installed()
    try:
        output = make("demo", f"PORT={port}", f"DEMO={demo}")
        pid = read_pid(pidfile)
        assert f"http://127.0.0.1:{port}/" in output
        assert f"http://127.0.0.1:{port}/docs/" in output
        assert f"pidfile: {pidfile}" in output
        assert "stop:    make stop" in output

        site = get(port, "/")
        assert site.status == 200
        assert "Backup catalogue" in site.text
        docs = get(port, "/docs/")
        assert docs.status == 200
        assert "Django on twistd" in docs.text

        output = make("stop", f"DEMO={demo}")
        assert f"Stopped PID {pid}." in output
        assert not pidfile.exists()
        assert not is_running(pid)
        assert installed() == before, "make demo changed the installed packages"
    finally:
        pid = read_pid(pidfile)
        if pid is not None:
            kill_hard(pid)
