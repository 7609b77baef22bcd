"""Each answer that no Request reports (the limits' own, Twisted's bare 400)
writes one Combined Log Format line through the site's log: into its
--access-log file, or else twistd's log; "-" for what had not arrived."""

import re

import pytest
from twisted.internet.address import IPv4Address
from twisted.web.http_headers import Headers

from twistd_django.accesslog import combined_log_formatter
from twistd_django.limits import LimitedSite
from twistd_django.refusals import Refusal, request_line

from .conftest import Held, Recorder, connect, messages

HOST = b"Host: example.com\r\n"
AGENT = b"User-Agent: probe/1\r\n"
POST = b"POST /upload HTTP/1.1\r\n" + HOST + AGENT
LINE = re.compile(
    r'^(?P<client>\S+) - - \[[^\]]+\] "(?P<request>[^"]*)" (?P<status>\d{3}) '
    r'(?P<length>\d+|-) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)"$'
)


@pytest.fixture
def make_site(clock, tmp_path):
    """A started LimitedSite that logs to ``tmp_path/access.log``, as with
    --access-log: ``make_site(**options)``; ``lines()`` reads the log."""
    sites = []

    def make(resource=None, trust_proxy=False, log_path=True, **limits):
        path = str(tmp_path / "access.log") if log_path else None
        site = LimitedSite(
            resource or Recorder(),
            reactor=clock,
            logPath=path,
            logFormatter=combined_log_formatter(trust_proxy),
            **limits,
        )
        site.startFactory()
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.stopFactory()


def lines(tmp_path):
    path = tmp_path / "access.log"
    text = path.read_text() if path.exists() else ""
    return [LINE.match(line).groupdict() for line in text.splitlines()]


def statuses(answer):
    return [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]


# id: (limits, what is sent, its status, the request line logged, and the
# user agent logged: "-" where the line or the header had not arrived)
CASES = {
    "413-content-length": (
        {"max_body": 10},
        POST + b"Content-Length: 11\r\n\r\n",
        413,
        "POST /upload HTTP/1.1",
        "probe/1",
    ),
    "413-chunks": (
        {"max_body": 10},
        POST + b"Transfer-Encoding: chunked\r\n\r\n6\r\nhello!\r\n6\r\nhello!\r\n",
        413,
        "POST /upload HTTP/1.1",
        "probe/1",
    ),
    "400-obs-fold": (
        {},
        POST + b"X-Note: a\r\n Transfer-Encoding: chunked\r\n\r\n",
        400,
        "POST /upload HTTP/1.1",
        "probe/1",
    ),
    "400-chunked-then-identity": (
        {},
        POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
        400,
        "POST /upload HTTP/1.1",
        "probe/1",
    ),
    "414-request-target": (
        {},
        b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
        414,
        "- - -",
        "-",
    ),
    "431-one-header": (
        {},
        # Twisted holds each header line until the next one has come.
        b"GET / HTTP/1.1\r\n" + AGENT + HOST + b"X-Big: " + b"a" * 65536 + b"\r\n",
        431,
        "GET / HTTP/1.1",
        "probe/1",
    ),
    # Twisted's parser answers these itself, with a bare 400.
    "400-twisted-two-lengths": (
        {},
        POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
        "POST /upload HTTP/1.1",
        "probe/1",
    ),
    "400-twisted-request-line": (
        {},
        b"GET /a b HTTP/1.1\r\n" + HOST + b"\r\n",
        400,
        "- - -",
        "-",
    ),
    "400-twisted-bad-chunk": (
        {},
        POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        400,
        "POST /upload HTTP/1.1",
        "probe/1",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_refusal_writes_one_line(make_site, tmp_path, case):
    limits, data, status, request, agent = CASES[case]
    protocol, transport = connect(make_site(**limits))
    protocol.dataReceived(data)
    answer = transport.value()
    assert statuses(answer) == [status], answer[:200]
    (line,) = lines(tmp_path)
    assert line["status"] == str(status)
    assert line["request"] == request
    assert line["agent"] == agent
    assert line["client"] == "192.168.1.1"  # StringTransport's peer.
    body = answer.partition(b"\r\n\r\n")[2]
    assert line["length"] == (str(len(body)) if body else "-")


def test_a_body_too_slow_writes_its_408_line(make_site, tmp_path, clock):
    protocol, transport = connect(make_site(body_timeout=5))
    protocol.dataReceived(POST + b"Content-Length: 10\r\n\r\nabc")
    assert lines(tmp_path) == []
    clock.advance(5)
    assert statuses(transport.value()) == [408]
    (line,) = lines(tmp_path)
    assert (line["request"], line["status"]) == ("POST /upload HTTP/1.1", "408")


def test_a_body_still_coming_at_the_drain_writes_its_503_line(make_site, tmp_path):
    site = make_site()
    protocol, transport = connect(site)
    protocol.dataReceived(POST + b"Content-Length: 10\r\n\r\nabc")
    site.drain()
    assert statuses(transport.value()) == [503]
    (line,) = lines(tmp_path)
    assert (line["request"], line["status"]) == ("POST /upload HTTP/1.1", "503")


def test_the_head_deadline_answers_nothing_and_logs_nothing(make_site, tmp_path, clock):
    protocol, transport = connect(make_site(head_timeout=20))
    protocol.dataReceived(b"GET / HTTP/1.1\r\n")
    clock.advance(20)
    assert transport.disconnecting and transport.value() == b""
    assert lines(tmp_path) == []


def test_as_many_lines_as_responses_on_one_connection(make_site, tmp_path):
    """Two requests served, then the third refused: three responses, three
    lines, in that order; the refused request's line has its own fields."""
    protocol, transport = connect(make_site(max_body=10))
    get = b"GET /ok HTTP/1.1\r\n" + HOST + b"\r\n"
    protocol.dataReceived(get + get + POST + b"Content-Length: 11\r\n\r\n")
    assert statuses(transport.value()) == [200, 200, 413]
    logged = lines(tmp_path)
    assert [(line["request"], line["status"]) for line in logged] == [
        ("GET /ok HTTP/1.1", "200"),
        ("GET /ok HTTP/1.1", "200"),
        ("POST /upload HTTP/1.1", "413"),
    ]
    assert [line["agent"] for line in logged] == ["-", "-", "probe/1"]


def test_a_refusal_after_a_response_in_flight_has_only_its_own_headers(
    make_site, tmp_path
):
    resource = Held()
    protocol, transport = connect(make_site(resource, max_body=10))
    protocol.dataReceived(b"GET /held HTTP/1.1\r\n" + HOST + AGENT + b"\r\n")
    resource.requests[0].finish()
    protocol.dataReceived(b"POST /upload HTTP/1.1\r\nContent-Length: 11\r\n\r\n")
    assert statuses(transport.value()) == [200, 413]
    held, refused = lines(tmp_path)
    assert (held["agent"], refused["agent"]) == ("probe/1", "-")


def test_with_trust_proxy_the_client_is_the_last_forwarded_address(make_site, tmp_path):
    protocol, _ = connect(make_site(trust_proxy=True, max_body=10))
    protocol.dataReceived(
        POST + b"X-Forwarded-For: 198.51.100.7, 203.0.113.9\r\n"
        b"Content-Length: 11\r\n\r\n"
    )
    (line,) = lines(tmp_path)
    assert (line["client"], line["status"]) == ("203.0.113.9", "413")


def test_with_trust_proxy_and_no_headers_yet_the_client_is_unknown(make_site, tmp_path):
    protocol, _ = connect(make_site(trust_proxy=True))
    protocol.dataReceived(b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\n")
    (line,) = lines(tmp_path)
    assert (line["client"], line["status"]) == ("-", "414")


def test_without_an_access_log_file_the_line_goes_to_twistds_log(make_site, logged):
    protocol, _ = connect(make_site(log_path=False, max_body=10))
    protocol.dataReceived(POST + b"Content-Length: 11\r\n\r\n")
    found = [m for m in messages(logged) if '"POST /upload HTTP/1.1" 413 ' in m]
    assert len(found) == 1, messages(logged)
    assert LINE.match(found[0].strip())


def test_a_refusal_is_logged_once_even_if_more_comes(make_site, tmp_path):
    protocol, _ = connect(make_site(max_body=10))
    protocol.dataReceived(POST + b"Content-Length: 11\r\n\r\n")
    protocol.dataReceived(b"x" * 100 + b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    assert [line["status"] for line in lines(tmp_path)] == ["413"]


# The Refusal itself, as the formatters read it.


def test_a_refusal_reads_as_a_request_to_the_formatter():
    headers = Headers({b"referer": [b"http://x/"], b"user-agent": [b"a", b"b"]})
    refusal = Refusal(
        413, 42, IPv4Address("TCP", "203.0.113.7", 1), b"PUT", b"/u", b"HTTP/1.0"
    )
    refusal.requestHeaders = headers
    line = combined_log_formatter(False)("[ts]", refusal)
    assert line == '203.0.113.7 - - [ts] "PUT /u HTTP/1.0" 413 42 "http://x/" "b"'


def test_what_is_unknown_is_a_dash():
    line = combined_log_formatter(False)("[ts]", Refusal(400, 0, None))
    assert line == '- - - [ts] "- - -" 400 - "-" "-"'


@pytest.mark.parametrize(
    "line, words",
    [
        (b"GET / HTTP/1.1", (b"GET", b"/", b"HTTP/1.1")),
        (b"GET /a b HTTP/1.1", (None, None, None)),
        (b"GET  HTTP/1.1", (None, None, None)),
        (b"GARBAGE", (None, None, None)),
        (None, (None, None, None)),
    ],
)
def test_request_line_takes_three_words_or_none(line, words):
    assert request_line(line) == words
