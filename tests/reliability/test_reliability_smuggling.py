"""Request smuggling against the daemonized package: each ambiguous request
gets exactly one response and a closed connection, and the request smuggled
behind it never runs (it is not in the access log)."""

import socket
import time

import pytest

from support.http import get
from support.reliability import HOST, ms, production_daemon
from support.results import record
from support.site import prepare_site

GROUP = "Bad input"
H = b"Host: 127.0.0.1\r\n"
POST = b"POST /snapshots/report/ HTTP/1.1\r\n" + H


def smuggled(case):
    """The GET hidden behind the case: its query names the case."""
    return b"GET /plain/?smuggled-%s HTTP/1.1\r\n" % case.encode() + H + b"\r\n"


# id: (what is sent, the request, its one status)
SMUGGLING = {
    "smuggling-cl-then-te": (
        "Content-Length, then Transfer-Encoding: chunked",
        POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "smuggling-te-then-cl": (
        "Transfer-Encoding: chunked, then Content-Length",
        POST + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        400,
    ),
    "smuggling-two-cls": (
        "two different Content-Length lines",
        POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
    ),
    "smuggling-chunked-identity-one-line": (
        "Transfer-Encoding: chunked, identity (chunked not last)",
        POST + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        400,
    ),
    "smuggling-chunked-identity-two-lines": (
        "Transfer-Encoding: chunked, then a second line Transfer-Encoding: identity",
        POST
        + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"
        + b"0\r\n\r\n",
        400,
    ),
    "smuggling-obs-fold-te": (
        "Transfer-Encoding hidden in an obs-fold line, beside a Content-Length",
        POST + b"Content-Length: 5\r\nX-Note: a\r\n Transfer-Encoding: chunked\r\n"
        b"\r\n0\r\n\r\n",
        400,
    ),
    "smuggling-space-in-target": (
        "a space in the request target",
        b"GET /plain/ HTTP/1.1/x HTTP/1.1\r\n" + H + b"\r\n",
        400,
    ),
    "smuggling-bad-chunk-size": (
        "a chunk size that is not hexadecimal",
        POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    "header-64-kib": (
        "one header of 64 KiB",
        b"GET /plain/ HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 65536 + b"\r\n\r\n",
        431,
    ),
}
CASES = list(SMUGGLING)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return prepare_site(tmp_path_factory.mktemp("smuggling-data"))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, data):
    extra = ["--access-log", "access.log"]
    with production_daemon(tmp_path_factory.mktemp("smuggling"), data, extra) as d:
        yield d


def one_exchange(port, data, timeout=10.0):
    """Send ``data``; read until the server closes. Returns the reply, the
    seconds it took, and whether the server closed (not a timeout)."""
    started = time.monotonic()
    chunks = []
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return b"".join(chunks), time.monotonic() - started, False
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - started, True


@pytest.mark.parametrize("case", CASES)
def test_a_smuggling_case_gets_one_response_and_a_close(daemon, case):
    what, request, expected = SMUGGLING[case]
    reply, seconds, closed = one_exchange(daemon.port, request + smuggled(case))
    assert closed, f"{case}: the connection stayed open: {reply[:200]!r}"
    assert reply.count(b"HTTP/1.1 ") == 1, reply[:300]
    assert reply.startswith(b"HTTP/1.1 %d " % expected), reply[:300]
    assert get(daemon.port, "/plain/").status == 200  # Still serving.
    access = (daemon.workdir / "access.log").read_text()
    assert f"smuggled-{case}" not in access
    record(
        case,
        group=GROUP,
        test="test_reliability_smuggling.py::"
        "test_a_smuggling_case_gets_one_response_and_a_close",
        input=what + ", with a GET behind it",
        outcome=f"{expected}, then closed; the GET behind it never runs",
        figures={"answered and closed in ms": ms(seconds)},
    )
