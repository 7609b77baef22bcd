"""A whole response goes back in one reactor call; a streaming one still streams."""

import http.client
import time

import pytest

from support.http import cut_off, get
from support.procs import wait_until
from support.steps import PACKAGE

PRODUCTION = PACKAGE
TIMEOUT = 5  # Seconds, for every connection and read.

# The resource as service.py builds it, with a WSGI application that does what
# Django never does: write() before it returns, and fail inside a whole body.
WRITEBACK_TAC = """
from twisted.application import service, strports
from twisted.internet import reactor
from twisted.web.server import Site

from twistd_django.inflight import InFlight, TrackingWSGIResource


class Whole:
    \"\"\"A body in memory, as Django's HttpResponse; ?fail fails half-way.\"\"\"

    streaming = False

    def __init__(self, fail):
        self.fail = fail

    def __iter__(self):
        yield b"half"
        if self.fail:
            raise RuntimeError("tac: deliberate failure in a whole body")
        yield b" whole"

    def close(self):
        print("tac: body closed")


def wsgi_application(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/write":
        write(b"written, ")
    return Whole(environ["QUERY_STRING"] == "fail")


pool = reactor.getThreadPool()  # Started when the reactor runs: after the fork.
wsgi = TrackingWSGIResource(reactor, pool, wsgi_application, InFlight())
application = service.Application("writeback")
site = Site(wsgi)
strports.service("tcp:{port}:interface=127.0.0.1", site).setServiceParent(application)
"""


def connect(daemon):
    return http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=TIMEOUT)


def test_whole_responses_are_whole_and_correct(twistd):
    daemon = twistd(PRODUCTION)
    conn = connect(daemon)
    try:
        for _ in range(20):  # One keep-alive connection.
            conn.request("GET", "/plain/")
            response = conn.getresponse()
            assert response.status == 200
            assert response.headers.get_all("Content-Length") == ["3"]
            assert response.read() == b"ok\n"
        conn.request("HEAD", "/plain/")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b""
        # A body sent after the HEAD response would be read as the next status.
        conn.request("GET", "/plain/")
        assert conn.getresponse().read() == b"ok\n"
    finally:
        conn.close()

    page = get(daemon.port, "/")
    assert page.status == 200
    assert page.headers["Content-Length"] == str(len(page.body))
    assert page.body.rstrip().endswith(b"</html>")


def test_a_server_error_is_still_a_500_with_its_traceback_logged(twistd):
    daemon = twistd(PRODUCTION)
    assert get(daemon.port, "/boom/").status == 500
    assert wait_until(lambda: "boom: deliberate failure" in daemon.log(), 5)
    log = daemon.log()
    assert "Internal Server Error: /boom/" in log
    assert 'raise RuntimeError("boom: deliberate failure' in log
    assert get(daemon.port, "/plain/").body == b"ok\n"  # Still serving.


def test_a_streaming_response_still_streams(twistd):
    daemon = twistd(PRODUCTION)
    conn = connect(daemon)
    try:
        sent = time.monotonic()
        conn.request("GET", "/stream/?chunks=4&delay=0.5")
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["Transfer-Encoding"] == "chunked"
        lines, arrived = [], []
        while line := response.readline():
            lines.append(line)
            arrived.append(time.monotonic() - sent)
    finally:
        conn.close()
    assert lines == [b"chunk 0\n", b"chunk 1\n", b"chunk 2\n", b"chunk 3\n", b"done\n"]
    # Streamed, not buffered: each chunk comes as the view yields it, so the
    # arrivals spread over the view's three delays of 0.5 s, where a buffered
    # body would come in one piece. No bound on when the first comes: a
    # loaded machine may delay it, and it would delay the others as much.
    spread = arrived[-1] - arrived[0]
    assert spread >= 1.0, f"all the chunks came within {spread:.2f} s: buffered"
    assert arrived[-1] >= 1.4, f"three delays of 0.5 s ended after {arrived[-1]:.2f} s"


def cut_off_body(daemon, path):
    """GET ``path``: a 200 whose body ends with no terminating chunk, because
    the connection closes. Returns the part of the body that came."""
    return cut_off(connect(daemon), path)


def test_an_error_mid_stream_closes_the_connection(twistd):
    daemon = twistd(PRODUCTION)
    partial = cut_off_body(daemon, "/stream/?chunks=5&delay=0.1&fail_after=2")
    assert partial == b"chunk 0\nchunk 1\n"
    assert wait_until(lambda: "deliberate failure after 2" in daemon.log(), 5)
    assert "WSGI application error" in daemon.log()


@pytest.fixture
def writeback_tac(twistd):
    daemon = twistd(PRODUCTION, start=False)
    tac = WRITEBACK_TAC.replace("{port}", str(daemon.port))
    (daemon.workdir / "writeback.tac").write_text(tac)
    daemon.args = ["-y", "writeback.tac"]
    return daemon.start()


def test_a_whole_body_after_write_is_sent_once_after_the_headers(writeback_tac):
    daemon = writeback_tac
    conn = connect(daemon)
    try:
        for path, body in [("/", b"half whole"), ("/write", b"written, half whole")]:
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.status == 200
            assert response.headers.get_all("Content-Type") == ["text/plain"]
            assert response.read() == body
    finally:
        conn.close()
    assert wait_until(lambda: daemon.log().count("tac: body closed") == 2, 5)


def test_a_whole_body_that_fails_is_closed_and_reported(writeback_tac):
    daemon = writeback_tac
    # Nothing sent yet: a 500.
    response = get(daemon.port, "/?fail")
    assert response.status == 500
    assert response.body == b""
    # The headers and a first write were sent: the connection closes.
    assert cut_off_body(daemon, "/write?fail") == b"written, "
    assert wait_until(lambda: daemon.log().count("tac: body closed") == 2, 5)
    log = daemon.log()
    assert log.count("WSGI application error") == 2
    assert log.count("tac: deliberate failure in a whole body") >= 2
