"""Bad input against the daemonized production step: each case is refused,
and a normal request still gets a 200 afterwards."""

import pytest

from support.http import get
from support.reliability import (
    CLOSED,
    TIMED_OUT,
    exchange,
    ms,
    production_daemon,
    rows,
)
from support.results import record
from support.site import prepare_site

GROUP = "Bad input"
HOST = b"Host: 127.0.0.1\r\n"
POST = b"POST /snapshots/report/ HTTP/1.1\r\n" + HOST
FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"
MAX_BODY = 100_000

# id: (what is sent, the request, what the server does: a status, or CLOSED
# for "closes the connection with no response"; never TIMED_OUT, a hang)
MALFORMED = {
    "garbage-request-line": ("a garbage request line", b"GARBAGE\r\n\r\n", 400),
    "unknown-http-version": (
        "an unknown HTTP version, HTTP/9.9",
        b"GET / HTTP/9.9\r\n" + HOST + b"\r\n",
        400,
    ),
    "100-kb-header": (
        "one header of 100 KB",
        b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n",
        431,
    ),
    "500-headers": (
        "500 headers besides Host",
        b"GET / HTTP/1.1\r\n"
        + HOST
        + b"".join(b"X-Header-%d: x\r\n" % i for i in range(500))
        + b"\r\n",
        400,
    ),
    "invalid-content-length": (
        "Content-Length: abc",
        POST + b"Content-Length: abc\r\n\r\n",
        400,
    ),
    "two-content-lengths": (
        "two different Content-Length values",
        POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
    ),
    "content-length-and-chunked": (
        "Content-Length with Transfer-Encoding: chunked (smuggling)",
        POST
        + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        + b"GET /boom/ HTTP/1.1\r\n"
        + HOST
        + b"\r\n",
        400,
    ),
    "bad-chunk-size": (
        "a chunk size that is not hexadecimal",
        POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        400,
    ),
}
CASES = [
    *MALFORMED,
    "short-body",
    "unknown-host",
    "body-over-limit-content-length",
    "body-over-limit-chunked",
    "body-over-limit-expect-100",
    "body-under-limit",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return prepare_site(tmp_path_factory.mktemp("input-data"))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, data):
    extra = ["--max-body", str(MAX_BODY), "--access-log", "access.log"]
    with production_daemon(tmp_path_factory.mktemp("input"), data, extra) as daemon:
        yield daemon


@pytest.fixture
def still_serves(daemon):
    """After the case: the daemon runs, and a normal request gets a 200."""
    yield
    assert daemon.running()
    assert get(daemon.port, "/plain/").status == 200


def said(status):
    return "closes the connection, no response" if status is CLOSED else str(status)


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_request(daemon, still_serves, case):
    what, request, expected = MALFORMED[case]
    status, reply, seconds = exchange(daemon.port, request)
    assert status is not TIMED_OUT, f"{case}: the server hung: {TIMED_OUT}"
    assert status == expected, reply[:200]
    assert b"Traceback" not in reply
    record(
        case,
        group=GROUP,
        test="test_reliability_input.py::test_malformed_request",
        input=what,
        outcome=said(status),
        figures={"answered in ms": ms(seconds)},
    )


def test_body_shorter_than_its_content_length(daemon, still_serves, data):
    """The server waits for the rest; the view never runs on half a body."""
    body = b"host=short&label=short-body&size_bytes=1&status=ok"
    request = POST + FORM + b"Content-Length: %d\r\n\r\n" % (len(body) + 50) + body
    # Waiting is the expected outcome: a 1 s window, which load cannot make
    # pass wrongly (an early answer or close shows at once).
    status, reply, seconds = exchange(daemon.port, request, timeout=1.0)
    assert (status, reply) == (TIMED_OUT, b"")
    assert rows(data, "short-body") == 0
    record(
        "short-body",
        group=GROUP,
        test="test_reliability_input.py::test_body_shorter_than_its_content_length",
        input="a body 50 bytes shorter than its Content-Length",
        outcome="waits for the rest (until the 60 s idle timeout); no row written",
        figures={"no reply within s": round(seconds, 1), "rows written": 0},
    )


def test_unknown_host(daemon, still_serves):
    log_before = len(daemon.log())
    request = b"GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    status, reply, seconds = exchange(daemon.port, request)
    assert status == 400
    access = (daemon.workdir / "access.log").read_text()
    assert '"GET / HTTP/1.1" 400 ' in access
    new_log = daemon.log()[log_before:]
    assert "Internal Server Error" not in new_log
    assert "[django.request#error]" not in new_log
    assert '" 500 ' not in access
    assert "DisallowedHost" not in new_log  # The access log has the 400.
    record(
        "unknown-host",
        group=GROUP,
        test="test_reliability_input.py::test_unknown_host",
        input="Host: evil.example, not in ALLOWED_HOSTS",
        outcome="400 from Django; no 500, and no error logged",
        figures={"answered in ms": ms(seconds)},
    )


def chunked(total, size=32_768):
    chunk = b"%x\r\n" % size + b"a" * size + b"\r\n"
    return chunk * (total // size) + b"0\r\n\r\n"


BODY_CASES = {
    "body-over-limit-content-length": (
        "Content-Length: 20 MB, over --max-body 100000; then the body",
        POST + FORM + b"Content-Length: 20000000\r\n\r\n" + b"a" * 1_000_000,
    ),
    "body-over-limit-chunked": (
        "a chunked body of 1 MB, over --max-body 100000",
        POST + FORM + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(1_000_000),
    ),
    "body-over-limit-expect-100": (
        "Content-Length: 20 MB and Expect: 100-continue",
        POST + FORM + b"Expect: 100-continue\r\nContent-Length: 20000000\r\n\r\n",
    ),
}


@pytest.mark.parametrize("case", list(BODY_CASES))
def test_body_over_the_limit_gets_413(daemon, still_serves, case):
    what, request = BODY_CASES[case]
    status, reply, seconds = exchange(daemon.port, request)
    assert status == 413, reply[:200]
    assert b"100 Continue" not in reply
    assert b"Connection: close" in reply
    assert "Refused a request body" in daemon.log()
    record(
        case,
        group=GROUP,
        test="test_reliability_input.py::test_body_over_the_limit_gets_413",
        input=what,
        outcome="413 at once, before the body is read; the connection closes",
        figures={"answered in ms": ms(seconds)},
    )


def test_body_under_the_limit_is_served(daemon, still_serves, data):
    fields = b"host=limit&label=under-limit&size_bytes=1&status=ok&pad="
    body = fields + b"x" * (MAX_BODY - len(fields))
    request = POST + FORM + b"Content-Length: %d\r\n" % len(body)
    request += b"Connection: close\r\n\r\n" + body
    status, reply, seconds = exchange(daemon.port, request)
    assert status == 201, reply[:300]
    assert rows(data, "under-limit") == 1
    record(
        "body-under-limit",
        group=GROUP,
        test="test_reliability_input.py::test_body_under_the_limit_is_served",
        input="a body of exactly --max-body bytes",
        outcome="201: served as usual",
        figures={"answered in ms": ms(seconds)},
    )
