"""The drain on shutdown: ``LimitedSite.drain()`` closes idle keep-alive
connections at once, lets a response in flight finish with
``Connection: close``, answers 503 to a request that arrives meanwhile, and
keeps the access log open until the last response is logged."""

from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from twistd_django.limits import LimitedSite

from .conftest import Held, connect

GET = b"GET /page HTTP/1.1\r\nHost: example.com\r\n\r\n"


def finish(request, body=b"done"):
    request.setHeader(b"content-length", b"%d" % len(body))
    request.write(body)
    request.finish()


def lose(protocol):
    protocol.connectionLost(Failure(ConnectionDone()))


def test_an_idle_keep_alive_connection_is_closed_at_once(clock):
    resource = Held()
    site = LimitedSite(resource, reactor=clock)
    protocol, transport = connect(site)
    protocol.dataReceived(GET)
    finish(resource.requests[0])
    assert not transport.disconnecting  # Kept alive for the next request.
    site.drain()
    assert transport.disconnecting


def test_a_response_in_flight_completes_with_connection_close(clock):
    resource = Held()
    site = LimitedSite(resource, reactor=clock)
    protocol, transport = connect(site)
    protocol.dataReceived(GET)
    drained = []
    site.drain().addCallback(drained.append)
    assert not transport.disconnecting
    finish(resource.requests[0])
    answer = transport.value()
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close\r\n" in answer
    assert answer.endswith(b"\r\n\r\ndone")
    assert transport.disconnecting
    assert drained == []
    lose(protocol)
    assert drained == [None]


def test_a_request_that_arrives_during_the_drain_gets_503(clock):
    resource = Held()
    site = LimitedSite(resource, reactor=clock)
    protocol, transport = connect(site)
    protocol.dataReceived(b"POST /p HTTP/1.1\r\nHost: e\r\nContent-Length: 3\r\n\r\n")
    site.drain()  # Its head is in, its body not yet: no work starts for it.
    protocol.dataReceived(b"abc")
    assert resource.requests == []
    answer = transport.value()
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), answer
    assert b"Connection: close\r\n" in answer
    assert transport.disconnecting


def test_a_connection_still_sending_its_head_is_closed_at_once(clock):
    site = LimitedSite(Held(), reactor=clock)
    protocol, transport = connect(site)
    protocol.dataReceived(b"GET /slow HTTP/1.1\r\nHost: exa")
    site.drain()
    assert transport.disconnecting
    assert transport.value() == b""


def test_the_drain_fires_once_every_connection_is_gone(clock):
    site = LimitedSite(Held(), reactor=clock)
    first, _ = connect(site)
    second, _ = connect(site)
    drained = []
    site.drain().addCallback(drained.append)
    lose(first)
    assert drained == []
    lose(second)
    assert drained == [None]


def test_the_drain_closes_what_is_left_at_its_timeout_and_fires(clock):
    resource = Held()
    site = LimitedSite(resource, reactor=clock, drain_timeout=5)
    protocol, transport = connect(site)
    protocol.dataReceived(GET)  # A view that never returns.
    drained = []
    site.drain().addCallback(drained.append)
    clock.advance(4.9)
    assert not transport.disconnecting
    assert drained == []
    clock.advance(0.2)
    assert transport.disconnecting
    assert drained == [None]


def test_the_access_log_stays_open_until_the_last_response(tmp_path, clock):
    path = tmp_path / "access.log"
    resource = Held()
    site = LimitedSite(resource, reactor=clock, logPath=str(path))
    site.startFactory()
    protocol, _ = connect(site)
    protocol.dataReceived(GET)
    site.drain()
    site.stopFactory()  # The port has stopped listening.
    finish(resource.requests[0])
    lose(protocol)
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    assert '"GET /page HTTP/1.1" 200 4' in lines[0]


def test_without_connections_stop_factory_closes_the_log_at_once(tmp_path, clock):
    site = LimitedSite(Held(), reactor=clock, logPath=str(tmp_path / "access.log"))
    site.startFactory()
    site.stopFactory()
    assert [c for c in clock.getDelayedCalls() if c.active()] == []
