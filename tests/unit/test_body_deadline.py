"""The body deadline: a request body must be whole within ``body_timeout``
seconds of its head, however the bytes trickle in."""

from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from twistd_django.limits import LINGER, LimitedSite

from .conftest import Recorder, connect

HEAD = b"POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\n\r\n"
GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


def site(resource, clock, body_timeout=5, **kwargs):
    return LimitedSite(resource, body_timeout=body_timeout, reactor=clock, **kwargs)


def test_a_body_trickled_a_byte_a_second_gets_408_at_the_deadline(clock):
    resource = Recorder()
    protocol, transport = connect(site(resource, clock, body_timeout=5))
    protocol.dataReceived(HEAD)
    for _ in range(4):  # Each byte restarts Twisted's idle timeout.
        protocol.dataReceived(b"x")
        clock.advance(1)
    assert transport.value() == b""
    protocol.dataReceived(b"x")
    clock.advance(1)  # t=5
    answer = transport.value()
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"Connection: close\r\n" in answer
    assert transport.disconnecting
    protocol.dataReceived(b"xxxxx")  # The rest comes too late: dropped.
    assert resource.bodies == []
    assert transport.value() == answer
    clock.advance(LINGER)
    assert transport.disconnected


def test_a_body_in_time_is_served_and_the_deadline_is_gone(clock):
    resource = Recorder()
    protocol, transport = connect(site(resource, clock, body_timeout=5))
    protocol.dataReceived(HEAD + b"01234")
    clock.advance(4)
    protocol.dataReceived(b"56789")
    assert resource.bodies == [b"0123456789"]
    clock.advance(10)
    assert transport.value().count(b"HTTP/1.1 ") == 1
    assert not transport.disconnecting


def test_a_chunked_body_is_under_the_deadline_too(clock):
    protocol, transport = connect(site(Recorder(), clock, body_timeout=5))
    protocol.dataReceived(
        b"POST / HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n"
    )
    clock.advance(5)
    assert transport.value().startswith(b"HTTP/1.1 408 ")


def test_a_request_without_a_body_has_no_body_deadline(clock):
    protocol, transport = connect(site(Recorder(), clock, body_timeout=5))
    protocol.dataReceived(GET)
    clock.advance(5)
    assert transport.value().count(b"HTTP/1.1 200 OK") == 1
    assert b"408" not in transport.value()


def test_zero_turns_the_body_deadline_off(clock):
    protocol, transport = connect(site(Recorder(), clock, body_timeout=0))
    protocol.dataReceived(HEAD + b"x")
    clock.advance(3600)
    assert b"408" not in transport.value()


def test_losing_the_connection_cancels_the_body_deadline(clock):
    protocol, _ = connect(site(Recorder(), clock, body_timeout=5, head_timeout=20))
    protocol.dataReceived(HEAD + b"x")
    protocol.connectionLost(Failure(ConnectionDone()))
    assert [c for c in clock.getDelayedCalls() if c.active()] == []
