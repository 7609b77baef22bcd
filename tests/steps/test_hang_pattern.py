"""The exact hang pattern of the broken steps, daemonized, on a real twistd.

A forked daemon keeps the pool's bookkeeping but none of its threads: the
first ``minthreads`` requests go to workers that no longer exist. A pool that
may grow past ``minthreads`` then starts fresh threads for later requests; a
pool with ``minthreads == maxthreads`` never can.
"""

import json
import socket
from contextlib import ExitStack

import pytest

from support.http import get
from support.steps import STEPS

BROKEN_TAP = next(s for s in STEPS if s.id == "tap-01-broken")
BROKEN_TAC = next(s for s in STEPS if s.id == "tac-01-broken")


def send_requests(stack, port, count):
    """Open ``count`` connections, each with a request the server must answer."""
    socks = []
    for _ in range(count):
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), 2))
        sock.sendall(b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        socks.append(sock)
    return socks


def unanswered(socks, timeout=2.0):
    """How many of ``socks`` got no byte back within ``timeout`` seconds."""
    count = 0
    for sock in socks:
        sock.settimeout(timeout)
        try:
            sock.recv(1)
        except TimeoutError:
            count += 1
        timeout = 0.2  # The first wait covers the others: they ran meanwhile.
    return count


def pool_state(port):
    return json.loads(get(port, "/status.json").body)["pool"]


def test_default_pool_hangs_the_first_five_then_grows(twistd):
    daemon = twistd(BROKEN_TAC)  # ThreadPool(): minthreads=5, maxthreads=20
    with ExitStack() as stack:
        for _ in range(5):  # One at a time, so they reach the pool in order.
            assert unanswered(send_requests(stack, daemon.port, 1), 1.0) == 1
        sixth = pool_state(daemon.port)  # A fresh thread answers this one.
    assert (sixth["min"], sixth["max"]) == (5, 20)
    assert sixth["workers"] == 6  # The pool believes it has six workers...
    assert sixth["live_threads"] == 1  # ...and one of them exists.
    assert daemon.running()


@pytest.mark.parametrize("threads", [1, 3])
def test_fixed_size_pool_hangs_every_request(twistd, threads):
    daemon = twistd(BROKEN_TAP, extra_args=["--threads", str(threads)])
    with ExitStack() as stack:
        socks = send_requests(stack, daemon.port, threads + 2)
        assert unanswered(socks) == threads + 2
    assert daemon.running()


def test_foreground_pool_has_all_its_threads(twistd):
    daemon = twistd(BROKEN_TAP, daemonize=False, extra_args=["--threads", "3"])
    state = pool_state(daemon.port)
    assert state["workers"] == state["live_threads"] == 3
