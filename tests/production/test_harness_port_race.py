"""The harness itself: a port taken between free_port() and twistd's bind
(another process, on a busy machine) costs a restart on a new port, not a
failed test; a port a test chose on purpose is left alone."""

import socket

import pytest

from support.daemon import DaemonError
from support.http import get
from support.steps import PACKAGE


@pytest.mark.parametrize("daemonize", [True, False], ids=["daemonized", "foreground"])
def test_a_chosen_port_taken_meanwhile_is_replaced(twistd, daemonize):
    daemon = twistd(PACKAGE, daemonize=daemonize, start=False)
    with socket.socket() as thief:
        thief.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        thief.bind(("127.0.0.1", daemon.port))
        thief.listen()
        taken = daemon.port
        daemon.start()
        assert daemon.port != taken
        assert get(daemon.port, "/plain/").status == 200


def test_a_port_set_by_the_test_is_not_replaced(twistd):
    daemon = twistd(PACKAGE, start=False)
    with socket.socket() as thief:
        thief.bind(("127.0.0.1", 0))
        thief.listen()
        daemon.port = thief.getsockname()[1]
        with pytest.raises(DaemonError, match="exited with status 1"):
            daemon.start()
