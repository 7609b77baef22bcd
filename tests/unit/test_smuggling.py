"""Request smuggling and header limits, on the site's own protocol: each
ambiguous request gets exactly one response and a closed connection, and
nothing behind it reaches the resource (RFC 9112 sections 5.2, 6.1, 6.3)."""

import pytest
from twisted.web.resource import Resource

from twistd_django.limits import LimitedSite

from .conftest import connect

HOST = b"Host: example.com\r\n"
POST = b"POST /upload HTTP/1.1\r\n" + HOST
SMUGGLED = b"GET /smuggled HTTP/1.1\r\n" + HOST + b"\r\n"


class Recorder(Resource):
    isLeaf = True

    def __init__(self):
        super().__init__()
        self.paths = []

    def render(self, request):
        self.paths.append(request.path)
        return b"ok"


# id: (the bytes sent, the status of the one response)
SMUGGLING = {
    "cl-then-te": (
        POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "te-then-cl": (
        POST + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        400,
    ),
    "two-different-cls": (
        POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
    ),
    "chunked-identity-one-line": (
        POST + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        400,
    ),
    "chunked-identity-two-lines": (
        POST
        + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"
        + b"0\r\n\r\n",
        400,
    ),
    "obs-fold-hides-te": (
        POST + b"Content-Length: 5\r\nX-Note: a\r\n Transfer-Encoding: chunked\r\n"
        b"\r\n0\r\n\r\n",
        400,
    ),
    "space-in-target": (b"GET /a b HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "bad-chunk-size": (
        POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        400,
    ),
}


def responses(data):
    return data.count(b"HTTP/1.1 ")


@pytest.mark.parametrize("case", list(SMUGGLING))
def test_each_smuggling_case_gets_one_response_and_a_closed_connection(case, clock):
    request, status = SMUGGLING[case]
    resource = Recorder()
    protocol, transport = connect(LimitedSite(resource, reactor=clock))
    protocol.dataReceived(request + SMUGGLED)
    answer = transport.value()
    assert answer.startswith(b"HTTP/1.1 %d " % status), answer
    assert responses(answer) == 1, answer
    assert transport.disconnecting
    assert b"/smuggled" not in resource.paths
    assert resource.paths == []


def test_chunked_as_the_only_coding_is_still_served(clock):
    resource = Recorder()
    protocol, transport = connect(LimitedSite(resource, reactor=clock))
    protocol.dataReceived(
        POST + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SMUGGLED
    )
    assert responses(transport.value()) == 2
    assert resource.paths == [b"/upload", b"/smuggled"]
    assert not transport.disconnecting


def test_a_64_kib_header_gets_431_not_a_bare_close(clock):
    protocol, transport = connect(LimitedSite(Recorder(), reactor=clock))
    protocol.dataReceived(
        b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 65536 + b"\r\n\r\n"
    )
    answer = transport.value()
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"Connection: close\r\n" in answer
    assert responses(answer) == 1
    assert transport.disconnecting


def test_headers_adding_up_over_16_kib_get_431(clock):
    protocol, transport = connect(LimitedSite(Recorder(), reactor=clock))
    lines = b"".join(b"X-Part-%d: %s\r\n" % (i, b"a" * 1000) for i in range(20))
    protocol.dataReceived(b"GET / HTTP/1.1\r\n" + HOST + lines + b"\r\n")
    assert transport.value().startswith(b"HTTP/1.1 431 ")
    assert transport.disconnecting


def test_a_64_kib_request_target_gets_414(clock):
    protocol, transport = connect(LimitedSite(Recorder(), reactor=clock))
    protocol.dataReceived(b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\n" + HOST + b"\r\n")
    assert transport.value().startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert transport.disconnecting
