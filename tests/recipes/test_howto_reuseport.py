"""docs/howto/use-more-than-one-core.rst, under systemd: N workers on one port.

The how-to builds on the systemd how-to: this test runs
examples/recipes/systemd/install.sh, then install-workers.sh with two
workers, in a scratch root (support/scratch_root.py), checks what the second
script did, verifies the template unit ``backupsite-worker@.service``, and
runs two of its instances' ``ExecStart=`` as systemd would, on a port of
this run instead of 8000. Requests on new connections reach both workers;
each worker's access log gets its own; one worker stops on SIGTERM, and the
other serves on.

The production settings of the environment file redirect plain HTTP to
HTTPS, so every answer here is that redirect; which worker gave it is told
by the access log it lands in (``worker-%i.access.log``, one per instance).
"""

import re
import shlex
import signal
import socket
import struct
import subprocess

import pytest

from support.http import free_port, get
from support.procs import wait_until
from support.scratch_root import ScratchRoot, UnitProcess, unit, values

SCRIPT = "examples/recipes/systemd/install-workers.sh"
TEMPLATE = "backupsite-worker@.service"
LISTEN = "--listen=reuseport:8000:interface=127.0.0.1"
NAME = "backup.example.com"
LOGGED = re.compile(r'"GET /status\.json\?n=(\d+) HTTP/1\.1" 301 ')


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    scratch = ScratchRoot(tmp_path_factory.mktemp("howto-reuseport"))
    scratch.run_script("examples/recipes/systemd/install.sh")
    first = len(scratch.calls())
    scratch.run_script(SCRIPT, "2")
    scratch.worker_calls = scratch.calls()[first:]
    return scratch


def test_the_script_installs_verifies_and_starts_n_workers(scratch):
    units = scratch.path("/etc/systemd/system")
    assert (units / TEMPLATE).is_file()
    assert scratch.worker_calls == [
        f"systemd-analyze verify {units}/backupsite-worker@1.service "
        f"{units}/backupsite-worker@2.service",
        "systemctl daemon-reload",
        "systemctl enable --now backupsite-worker@1.service "
        "backupsite-worker@2.service",
    ]


def test_by_default_one_worker_per_core(scratch):
    first = len(scratch.calls())
    scratch.run_script(SCRIPT)
    enable = scratch.calls()[first:][-1]
    # As many as nproc counts: the cores this process may run on.
    cores = subprocess.run(
        ["nproc"], env=scratch.env(), capture_output=True, text=True, check=True
    ).stdout
    names = [f"backupsite-worker@{n}.service" for n in range(1, int(cores) + 1)]
    assert enable == "systemctl enable --now " + " ".join(names)


def test_systemd_analyze_verify_the_template(scratch, tmp_path):
    names = ["backupsite-worker@1.service", "backupsite-worker@2.service"]
    assert scratch.verify_units(names, tmp_path) == ""


def test_the_template_listens_with_reuseport_and_restarts_a_worker(scratch):
    service = unit(scratch.path("/etc/systemd/system") / TEMPLATE)
    svc = service["Service"]
    command = shlex.split(values(svc, "ExecStart")[0])
    assert command[1:4] == ["--nodaemon", "--pidfile=", "--logfile=-"]
    assert LISTEN in command
    assert "--access-log=/var/log/backupsite/worker-%i.access.log" in command
    # No socket unit: each worker binds the port itself.
    assert values(service["Unit"], "Requires") == []
    assert values(svc, "Restart") == ["on-failure"]
    assert values(svc, "User") == ["backupsite"]
    drain = float(re.search(r"--drain-timeout=(\d+)", " ".join(command))[1])
    assert float(values(svc, "TimeoutStopSec")[0]) > drain


def logged(path):
    """The request numbers in an access log, and any line of another shape."""
    if not path.exists():
        return set(), []
    numbers, others = set(), []
    for line in path.read_text().splitlines():
        match = LOGGED.search(line)
        if match:
            numbers.add(int(match[1]))
        else:
            others.append(line)
    return numbers, others


def listeners(port):
    """How many sockets listen on 127.0.0.1:port (/proc/net/tcp, state 0A,
    the address as a number in the machine's byte order)."""
    (number,) = struct.unpack("=I", socket.inet_aton("127.0.0.1"))
    address = f"{number:08X}:{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[1] == address and row[3] == "0A")


def redirect(port, number):
    answer = get(port, f"/status.json?n={number}", timeout=10, headers={"Host": NAME})
    assert answer.status == 301, answer
    assert answer.headers["location"] == f"https://{NAME}/status.json?n={number}"


def test_two_workers_share_the_port_and_one_stops(scratch, tmp_path):
    port = free_port()
    workers = []
    try:
        for n in (1, 2):
            workdir = tmp_path / f"worker{n}"
            workdir.mkdir()
            workers.append(
                UnitProcess(
                    scratch,
                    TEMPLATE,
                    workdir,
                    instance=n,
                    edits={LISTEN: LISTEN.replace("8000", str(port))},
                )
            )
        logs = [workers[0].logs / f"worker-{n}.access.log" for n in (1, 2)]
        # Both bind the port: two listening sockets, the kernel's own count.
        assert wait_until(
            lambda: listeners(port) == 2 or not all(w.running() for w in workers),
            20,
        )
        assert all(w.running() for w in workers), [w.stop() for w in workers]
        # Each request on a new connection, from a new source port.
        for number in range(40):
            redirect(port, number)
        assert wait_until(lambda: sum(len(logged(p)[0]) for p in logs) == 40, 5)
        (one, one_other), (two, two_other) = (logged(p) for p in logs)
        assert one_other == two_other == []
        # Each worker answered some, and each request was answered once: the
        # hash sends all 40 to one worker once in 2**39.
        assert one and two and not one & two
        assert one | two == set(range(40))

        stopping, staying = workers
        stopping.process.send_signal(signal.SIGTERM)
        journal = stopping.journal(stopping.timeout)
        assert stopping.process.returncode in (0, -signal.SIGTERM), journal
        assert "Received SIGTERM, shutting down." in journal
        assert "Server Shut Down." in journal
        # The other serves every new connection.
        for number in range(40, 60):
            redirect(port, number)
        assert wait_until(lambda: len(logged(logs[1])[0]) == len(two) + 20, 5)
        assert logged(logs[1])[0] == two | set(range(40, 60))
        assert logged(logs[0])[0] == one
        assert staying.running()
    finally:
        journals = [worker.stop() for worker in workers]
    for journal in journals:
        assert "Traceback" not in journal, journal
        assert "Server Shut Down." in journal
