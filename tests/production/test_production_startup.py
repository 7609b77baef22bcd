"""Startup errors reach the shell that started the daemon."""

import re
import socket
import subprocess

import pytest

from support.http import get
from support.procs import is_running
from support.steps import PACKAGE

PRODUCTION = PACKAGE
STATUS_PIPE_BYTES = 100  # twistd reads this much of the daemon's error.


def first_error_bytes(output):
    """The part of twistd's message that came through the status pipe."""
    found = re.search(r"An error has occurred: b(['\"])(.*)\1\n", output)
    assert found, output
    return found[2]


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_port_in_use_fails_the_launch(twistd, busy_port):
    daemon = twistd(PRODUCTION, start=False)
    daemon.port = busy_port
    status = daemon.launch()
    output = daemon.output.decode()
    assert status == 1, output
    error = first_error_bytes(output)
    assert len(error) <= STATUS_PIPE_BYTES
    assert error.endswith(f"ListenError: Address already in use: 127.0.0.1:{busy_port}")
    assert not daemon.pidfile.exists()


HAND_BUILT_TAC = """
from twisted.application import service
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import endpoints, reactor
from twisted.web.resource import Resource
from twisted.web.server import Site

application = service.Application("hand-built")
endpoint = endpoints.serverFromString(reactor, "tcp:{port}:interface=127.0.0.1")
StreamServerEndpointService(endpoint, Site(Resource())).setServiceParent(application)
"""


def test_hand_built_endpoint_service_hides_the_same_error(twistd, tmp_path, busy_port):
    """Without strports' _raiseSynchronously the daemon runs on, deaf."""
    daemon = twistd(PRODUCTION, start=False)
    tac = HAND_BUILT_TAC.replace("{port}", str(busy_port))
    (daemon.workdir / "hand.tac").write_text(tac)
    daemon.args = ["-y", "hand.tac"]
    assert daemon.launch() == 0
    assert daemon.wait_for_pidfile()
    assert "Address already in use" in daemon.log()
    assert is_running(daemon.pid)


def test_settings_that_raise_on_import_fail_the_launch(twistd):
    daemon = twistd(PRODUCTION, start=False)
    (daemon.workdir / "broken_settings.py").write_text(
        "from backupsite.settings import *\nraise RuntimeError('settings typo')\n"
    )
    daemon.args = ["django", "--settings", "broken_settings", "--listen", "tcp:{port}"]
    daemon.env["PYTHONPATH"] += f":{daemon.workdir}"
    status = daemon.launch()
    output = daemon.output.decode()
    assert status == 1, output
    assert "RuntimeError: settings typo" in output
    assert not daemon.pidfile.exists()


def test_stale_pidfile_is_removed_and_the_start_succeeds(twistd):
    daemon = twistd(PRODUCTION, start=False)
    dead = subprocess.Popen(["true"])
    dead.wait()
    daemon.pidfile.write_text(str(dead.pid))
    daemon.start()
    assert daemon.pid != dead.pid
    assert get(daemon.port, "/").status == 200
    assert "Removing stale pidfile" in daemon.log()


def test_live_pidfile_refuses_to_start(twistd):
    first = twistd(PRODUCTION)
    second = twistd(PRODUCTION, start=False)
    second.workdir = first.workdir  # Same pidfile.
    status = second.launch()
    output = second.output.decode()
    assert status == 1, output
    assert f"Another twistd server is running, PID {first.pid}" in output
    assert first.running()
    assert get(first.port, "/").status == 200
