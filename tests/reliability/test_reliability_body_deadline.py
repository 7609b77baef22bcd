"""The body deadline: a POST body trickled a byte a second gets 408 and a
closed connection at ``--body-timeout``, and the daemon goes on serving.
Twisted's idle timeout restarts with every byte, so without the deadline
the connection, and its buffer, are held for as long as the client likes."""

import socket
import time

from support.http import get
from support.reliability import HOST, PRODUCTION
from support.results import record

GROUP = "Slow clients"
CASES = ["trickling-body"]
BODY_TIMEOUT = 3.0
HEAD = (
    b"POST /snapshots/report/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
)


def trickle(port, seconds_max):
    """Send the head, then a body byte a second. Returns the reply, the
    seconds from the head to the close, and how many bytes were sent."""
    with socket.create_connection((HOST, port), timeout=seconds_max) as sock:
        sock.sendall(HEAD)
        started = time.monotonic()
        sock.settimeout(1.0)
        reply, sent = b"", 0
        while time.monotonic() - started < seconds_max:
            try:
                sock.sendall(b"x")
                sent += 1
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            reply += chunk
        else:
            return reply, None, sent
        return reply, time.monotonic() - started, sent


def test_a_trickled_body_gets_408_at_the_deadline(twistd):
    daemon = twistd(PRODUCTION, extra_args=["--body-timeout", str(BODY_TIMEOUT)])
    reply, closed_after, sent = trickle(daemon.port, BODY_TIMEOUT * 4)
    assert closed_after is not None, f"still open after {BODY_TIMEOUT * 4} s"
    assert reply.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), reply
    assert b"Connection: close\r\n" in reply
    assert BODY_TIMEOUT - 0.5 <= closed_after <= BODY_TIMEOUT + 3, closed_after
    assert daemon.running()
    assert get(daemon.port, "/plain/").status == 200
    record(
        "trickling-body",
        group=GROUP,
        test="test_reliability_body_deadline.py::"
        "test_a_trickled_body_gets_408_at_the_deadline",
        input=f"a POST body sent a byte a second, --body-timeout {BODY_TIMEOUT:g}",
        outcome="408, Connection: close, then closed; normal requests served",
        figures={
            "closed after s": round(closed_after, 2),
            "body bytes sent": sent,
        },
    )
