"""The access log: the standard Combined Log Format, the client behind a
proxy, and the responses sent whole to a client that left early."""

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.web.http import datetimeToLogString
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site
from twisted.web.test.requesthelper import DummyRequest
from twisted.web.test.test_wsgi import SynchronousReactorThreads, SynchronousThreadPool

from twistd_django.accesslog import LogWholeResponses, combined_log_formatter
from twistd_django.inflight import InFlight, TrackingWSGIResource

from .conftest import connect

TIMESTAMP = datetimeToLogString(1_700_000_000)  # [14/Nov/2023:22:13:20 +0000]


def logged_request(forwarded_for=(), client="203.0.113.7"):
    request = DummyRequest([b"catalogue"])
    request.method = b"GET"
    request.uri = b"/catalogue/?page=2"
    request.clientproto = b"HTTP/1.1"
    request.code = 200
    request.sentLength = 5120
    request.client = IPv4Address("TCP", client, 51234)
    request.requestHeaders.addRawHeader(b"referer", b"https://example.com/")
    request.requestHeaders.addRawHeader(b"user-agent", b"curl/8.5.0")
    for line in forwarded_for:
        request.requestHeaders.addRawHeader(b"x-forwarded-for", line)
    return request


def test_the_line_is_the_standard_combined_format():
    line = combined_log_formatter(False)(TIMESTAMP, logged_request())
    assert line == (
        '203.0.113.7 - - [14/Nov/2023:22:13:20 +0000] "GET /catalogue/?page=2'
        ' HTTP/1.1" 200 5120 "https://example.com/" "curl/8.5.0"'
    )


def test_the_client_address_has_no_quotes():
    line = combined_log_formatter(False)(TIMESTAMP, logged_request())
    assert line.split(" ")[0] == "203.0.113.7"
    assert not line.startswith('"')


def test_nothing_sent_is_logged_as_a_dash():
    request = logged_request()
    request.sentLength = 0
    request.code = 304
    line = combined_log_formatter(False)(TIMESTAMP, request)
    assert '" 304 - "' in line


def test_missing_referer_and_agent_are_dashes():
    request = logged_request()
    request.requestHeaders.removeHeader(b"referer")
    request.requestHeaders.removeHeader(b"user-agent")
    assert combined_log_formatter(False)(TIMESTAMP, request).endswith(' 5120 "-" "-"')


def test_a_quote_in_the_user_agent_is_escaped():
    request = logged_request()
    request.requestHeaders.setRawHeaders(b"user-agent", [b'evil" 200 "x'])
    line = combined_log_formatter(False)(TIMESTAMP, request)
    assert line.endswith(' "evil\\" 200 \\"x"')


def test_without_trust_proxy_x_forwarded_for_is_ignored():
    request = logged_request(forwarded_for=[b"198.51.100.1"])
    line = combined_log_formatter(False)(TIMESTAMP, request)
    assert line.startswith("203.0.113.7 - - ")


def test_with_trust_proxy_the_last_forwarded_address_is_the_client():
    request = logged_request(forwarded_for=[b"10.6.6.6, 198.51.100.1, 192.0.2.44"])
    line = combined_log_formatter(True)(TIMESTAMP, request)
    assert line.startswith("192.0.2.44 - - [14/Nov/2023:22:13:20 +0000] ")


def test_with_trust_proxy_the_last_header_line_counts():
    request = logged_request(forwarded_for=[b"10.6.6.6", b"198.51.100.1 , 192.0.2.44"])
    line = combined_log_formatter(True)(TIMESTAMP, request)
    assert line.startswith("192.0.2.44 - - ")


def test_with_trust_proxy_and_no_header_the_client_is_a_dash():
    line = combined_log_formatter(True)(TIMESTAMP, logged_request())
    assert line.startswith("- - - [14/Nov/2023:22:13:20 +0000] ")


def test_with_trust_proxy_an_empty_last_entry_is_a_dash():
    request = logged_request(forwarded_for=[b"198.51.100.1,"])
    assert combined_log_formatter(True)(TIMESTAMP, request).startswith("- - - ")


def test_with_trust_proxy_the_rest_of_the_line_is_unchanged():
    request = logged_request(forwarded_for=[b"192.0.2.44"])
    trusted = combined_log_formatter(True)(TIMESTAMP, request)
    direct = combined_log_formatter(False)(TIMESTAMP, request)
    assert trusted.partition(" ")[2] == direct.partition(" ")[2]


def test_with_trust_proxy_a_non_ascii_forwarded_entry_is_logged():
    request = logged_request(forwarded_for=[b"198.51.100.1, caf\xe9"])
    line = combined_log_formatter(True)(TIMESTAMP, request)
    assert line.startswith("caf\\xe9 - - ")


# Through a real Site, Request and HTTPChannel.


class Held(Resource):
    """Sends a Content-Length response, and leaves finishing to the test."""

    isLeaf = True

    def __init__(self, body, write=None):
        super().__init__()
        self.body = body
        self.write = self.body if write is None else write
        self.requests = []

    def render(self, request):
        self.requests.append(request)
        request.setHeader(b"content-length", b"%d" % len(self.body))
        request.write(self.write)
        return NOT_DONE_YET


@pytest.fixture
def logging_site(tmp_path, clock):
    """Make a Site over ``LogWholeResponses(resource)`` that writes its access
    log to a file; ``lines()`` reads it."""
    path = tmp_path / "access.log"
    sites = []

    def make(resource, trust_proxy=False):
        site = Site(
            LogWholeResponses(resource),
            logPath=str(path),
            logFormatter=combined_log_formatter(trust_proxy),
            reactor=clock,
        )
        site.startFactory()
        sites.append(site)
        return site

    def lines():
        for site in sites:
            site.stopFactory()  # Closes (and flushes) the log file.
        return path.read_text().splitlines() if path.exists() else []

    make.lines = lines
    yield make
    for site in sites:
        site.stopFactory()


REQUEST = b"GET /report.csv HTTP/1.1\r\nHost: example.com\r\n\r\n"


def test_a_whole_response_to_a_client_that_left_is_logged(logging_site):
    protocol, transport = connect(logging_site(Held(b"hello")))
    protocol.dataReceived(REQUEST)
    assert transport.value().endswith(b"\r\n\r\nhello")
    protocol.connectionLost(Failure(ConnectionDone()))  # Before finish().
    (line,) = logging_site.lines()
    assert line == (
        '192.168.1.1 - - [01/Jan/1970:00:00:00 +0000] "GET /report.csv HTTP/1.1"'
        ' 200 5 "-" "-"'
    )


def test_a_partial_response_to_a_client_that_left_is_not_logged(logging_site):
    protocol, _ = connect(logging_site(Held(b"hello", write=b"hel")))
    protocol.dataReceived(REQUEST)
    protocol.connectionLost(Failure(ConnectionDone()))
    assert logging_site.lines() == []


def test_a_response_without_content_length_to_a_client_that_left_is_not_logged(
    logging_site,
):
    class Streaming(Resource):
        isLeaf = True

        def render(self, request):
            request.write(b"chunk")
            return NOT_DONE_YET

    protocol, _ = connect(logging_site(Streaming()))
    protocol.dataReceived(REQUEST)
    protocol.connectionLost(Failure(ConnectionDone()))
    assert logging_site.lines() == []


def test_a_finished_response_is_logged_once(logging_site):
    resource = Held(b"hello")
    protocol, _ = connect(logging_site(resource))
    protocol.dataReceived(REQUEST)
    resource.requests[0].finish()
    protocol.connectionLost(Failure(ConnectionDone()))
    lines = logging_site.lines()
    assert len(lines) == 1
    assert '"GET /report.csv HTTP/1.1" 200 5 ' in lines[0]


def test_log_whole_responses_renders_the_wrapped_resource():
    class Inner(Resource):
        isLeaf = True

        def render(self, request):
            return b"inner"

    request = DummyRequest([b""])
    request.render(LogWholeResponses(Inner()))
    assert request.written == [b"inner"]


def test_with_trust_proxy_a_non_ascii_forwarded_entry_is_logged_by_the_site(
    logging_site,
):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "5")])
        return [b"hello"]

    wsgi = TrackingWSGIResource(
        SynchronousReactorThreads(), SynchronousThreadPool(), app, InFlight()
    )
    site = logging_site(wsgi, trust_proxy=True)
    protocol, transport = connect(site)
    protocol.dataReceived(
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: caf\xe9\r\n\r\n"
    )
    assert transport.value().endswith(b"\r\n\r\nhello")  # Sent whole.
    assert not transport.disconnecting  # HTTP/1.1: kept alive.
    (line,) = logging_site.lines()
    assert line.startswith("caf\\xe9 - - ")
