"""`make demo` serves the package, with the live-updates recipe and an agent
that reports snapshots, and the docs; `make stop` ends both.

The test runs make with BIN set to this Python's bin/, and with its install
step (`$(BIN)/.installed`) marked as done (`make -o`): in a nox session, the
install step would put requirements/ci.txt's pins over the versions the
session chose, and the tests after this one would run on those instead.
"""

import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

from support.http import free_ports, get
from support.procs import is_running, kill_hard, read_pid, wait_until
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
    port, agents_port = free_ports(2)
    demo = tmp_path / "demo"
    pidfile, agent_pidfile = demo / "twistd.pid", demo / "agent.pid"
    before = installed()
    try:
        output = make(
            "demo", f"PORT={port}", f"AGENTS_PORT={agents_port}", f"DEMO={demo}"
        )
        pid, agent = read_pid(pidfile), read_pid(agent_pidfile)
        assert f"http://127.0.0.1:{port}/" in output
        assert f"http://127.0.0.1:{port}/docs/" in output
        assert f"http://127.0.0.1:{port}/accounts/login/ (demo / demo)" in output
        assert f"pidfile: {pidfile}" in output
        assert "stop:    make stop" in output

        site = get(port, "/")
        assert site.status == 200
        assert "Backup catalogue" in site.text
        assert get(port, "/accounts/login/").status == 200
        docs = get(port, "/docs/")
        assert docs.status == 200
        assert "Django on twistd" in docs.text
        # The agent's snapshots arrive: the list grows without anyone's help.
        first = get(port, "/").text.count("<tr")
        assert wait_until(lambda: get(port, "/").text.count("<tr") > first, 30), (
            demo / "agent.log"
        ).read_text()

        output = make("stop", f"DEMO={demo}")
        assert f"Stopped PID {pid}." in output
        assert not pidfile.exists()
        assert not is_running(pid)
        assert wait_until(lambda: not is_running(agent), 10)
        assert installed() == before, "make demo changed the installed packages"
    finally:
        for path in (pidfile, agent_pidfile):
            pid = read_pid(path)
            if pid is not None:
                kill_hard(pid)
