"""LimitedSite: a deadline for each request's head, and a limit on its body,
driven through the site's own protocol on a StringTransport and a Clock."""

from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.web.http import _GenericHTTPChannelProtocol

from twistd_django.limits import LINGER, LimitedChannel, LimitedRequest, LimitedSite

from .conftest import Held, Recorder, connect, messages

HEAD = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
REFUSED_BODY = b"Request body over the limit of 10 bytes.\n"


def limited(resource, clock, head_timeout=20, max_body=10):
    return LimitedSite(
        resource, head_timeout=head_timeout, max_body=max_body, reactor=clock
    )


def post(length_header, body=b""):
    return b"POST /upload HTTP/1.1\r\nHost: example.com\r\n%s\r\n\r\n%s" % (
        length_header,
        body,
    )


def chunked(*chunks):
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    return post(b"Transfer-Encoding: chunked", encoded + b"0\r\n\r\n")


def test_the_site_builds_a_limited_channel_inside_twisteds_wrapper(clock):
    site = limited(Recorder(), clock)
    protocol, _ = connect(site)
    assert isinstance(protocol, _GenericHTTPChannelProtocol)
    assert isinstance(protocol._channel, LimitedChannel)
    assert protocol._channel.callLater == clock.callLater
    assert site.requestFactory is LimitedRequest


def test_zero_turns_a_limit_off(clock):
    site = limited(Recorder(), clock, head_timeout=0, max_body=0)
    assert site.headTimeout is None
    assert site.maxBody is None


# The head deadline


def test_a_silent_connection_is_closed_at_the_head_deadline_not_before(clock):
    _, transport = connect(limited(Recorder(), clock, head_timeout=20))
    clock.advance(19)
    assert not transport.disconnecting
    clock.advance(1)
    assert transport.disconnecting
    assert transport.value() == b""


def test_a_head_sent_a_byte_a_second_is_closed_at_the_deadline(clock):
    protocol, transport = connect(limited(Recorder(), clock, head_timeout=20))
    for byte in HEAD[:19]:  # Each byte restarts Twisted's idle timeout.
        protocol.dataReceived(bytes([byte]))
        clock.advance(1)
    assert clock.seconds() == 19
    assert not transport.disconnecting
    protocol.dataReceived(HEAD[19:20])
    clock.advance(1)
    assert transport.disconnecting


def test_the_deadline_runs_past_twisteds_own_idle_timeout(clock):
    site = LimitedSite(Recorder(), head_timeout=20, reactor=clock, timeout=5)
    protocol, transport = connect(site)
    for byte in b"GET ":  # Data every 4 s: the 5 s idle timeout never fires.
        protocol.dataReceived(bytes([byte]))
        clock.advance(4)
    protocol.dataReceived(b"/")  # t=16
    clock.advance(3.5)
    assert not transport.disconnecting
    clock.advance(0.5)  # t=20, and the idle timeout would fire at t=21.
    assert transport.disconnecting


def test_a_complete_head_stops_the_deadline(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, head_timeout=20))
    clock.advance(5)
    protocol.dataReceived(post(b"Content-Length: 5"))  # Its body is slow.
    clock.advance(55)  # Past the head deadline; short of the idle timeout.
    assert not transport.disconnecting
    protocol.dataReceived(b"hello")
    assert resource.bodies == [b"hello"]


def test_the_deadline_restarts_when_a_response_ends(clock):
    resource = Held()
    protocol, transport = connect(limited(resource, clock, head_timeout=20))
    clock.advance(5)
    protocol.dataReceived(HEAD)
    clock.advance(10)  # The view takes 10 s; no deadline meanwhile.
    resource.requests[0].write(b"done")
    resource.requests[0].finish()
    assert transport.value().startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.value().endswith(b"4\r\ndone\r\n0\r\n\r\n")
    clock.advance(19)  # t=34: 19 s since the response ended.
    assert not transport.disconnecting
    clock.advance(1)
    assert transport.disconnecting


def test_a_second_request_in_time_gets_its_answer(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, head_timeout=20))
    protocol.dataReceived(HEAD)
    clock.advance(19)
    protocol.dataReceived(HEAD)
    assert transport.value().count(b"HTTP/1.1 200 OK\r\n") == 2
    assert not transport.disconnecting


def test_no_head_timeout_means_no_deadline(clock):
    site = LimitedSite(Recorder(), head_timeout=None, reactor=clock, timeout=None)
    _, transport = connect(site)
    clock.advance(3600)
    assert not transport.disconnecting


def test_a_client_that_stays_after_the_deadline_is_aborted(clock):
    protocol, transport = connect(limited(Recorder(), clock, head_timeout=20))
    clock.advance(20)
    assert not transport.disconnected
    clock.advance(protocol._channel.abortTimeout)
    assert transport.disconnected


def test_losing_the_connection_cancels_the_deadline(clock):
    protocol, _ = connect(limited(Recorder(), clock, head_timeout=20))
    protocol.connectionLost(Failure(ConnectionDone()))
    assert clock.getDelayedCalls() == []


# The body limit


def test_a_content_length_over_the_limit_gets_413_at_once(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, max_body=10))
    protocol.dataReceived(post(b"Content-Length: 11"))  # No body yet.
    assert transport.value() == (
        b"HTTP/1.1 413 Content Too Large\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
        % (len(REFUSED_BODY), REFUSED_BODY)
    )
    assert resource.bodies == []


def test_a_refused_body_never_reaches_the_resource(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, max_body=10))
    protocol.dataReceived(post(b"Content-Length: 11"))
    answer = transport.value()
    protocol.dataReceived(b"x" * 11)
    protocol.dataReceived(HEAD)  # Nor does anything after it.
    assert resource.bodies == []
    assert transport.value() == answer


def test_a_refused_body_in_the_same_packet_never_reaches_the_resource(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, max_body=10))
    protocol.dataReceived(post(b"Content-Length: 11", b"x" * 11) + HEAD)
    assert resource.bodies == []
    assert transport.value().count(b"HTTP/1.1 ") == 1


def test_a_refused_body_gets_no_100_continue(clock):
    protocol, transport = connect(limited(Recorder(), clock, max_body=10))
    protocol.dataReceived(post(b"Content-Length: 11\r\nExpect: 100-continue"))
    assert transport.value().startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in transport.value()


def test_an_accepted_body_does_get_100_continue(clock):
    protocol, transport = connect(limited(Recorder(), clock, max_body=10))
    protocol.dataReceived(post(b"Content-Length: 10\r\nExpect: 100-continue"))
    assert transport.value() == b"HTTP/1.1 100 Continue\r\n\r\n"


def test_a_refusal_half_closes_then_aborts_after_the_linger(clock):
    protocol, transport = connect(limited(Recorder(), clock, max_body=10))
    assert transport.producer is not None  # HTTPChannel registered itself.
    protocol.dataReceived(post(b"Content-Length: 11"))
    assert transport.producer is None
    assert transport.disconnecting  # No loseWriteConnection: loseConnection.
    clock.advance(LINGER - 0.5)
    assert not transport.disconnected
    clock.advance(0.5)
    assert transport.disconnected


def test_losing_a_refused_connection_cancels_the_linger(clock):
    protocol, _ = connect(limited(Recorder(), clock, max_body=10))
    protocol.dataReceived(post(b"Content-Length: 11"))
    protocol.connectionLost(Failure(ConnectionDone()))
    assert [call for call in clock.getDelayedCalls() if call.active()] == []


def test_a_refusal_is_logged_with_length_limit_and_peer(clock, logged):
    protocol, _ = connect(limited(Recorder(), clock, max_body=10))
    protocol.dataReceived(post(b"Content-Length: 12345"))
    assert (
        "Refused a request body of 12345 bytes, over the limit of 10, from"
        " IPv4Address(type='TCP', host='192.168.1.1', port=54321)."
    ) in messages(logged)


def test_a_content_length_at_the_limit_reaches_the_resource_whole(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, max_body=10))
    protocol.dataReceived(post(b"Content-Length: 10", b"0123456789"))
    assert resource.bodies == [b"0123456789"]
    assert transport.value().startswith(b"HTTP/1.1 200 OK\r\n")
    assert not transport.disconnecting


def test_a_body_in_pieces_under_the_limit_reaches_the_resource_whole(clock):
    resource = Recorder()
    protocol, _ = connect(limited(resource, clock, max_body=10))
    protocol.dataReceived(post(b"Content-Length: 9", b"abc"))
    protocol.dataReceived(b"def")
    assert resource.bodies == []
    protocol.dataReceived(b"ghi")
    assert resource.bodies == [b"abcdefghi"]


def test_chunks_that_add_up_over_the_limit_get_413(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, max_body=10))
    protocol.dataReceived(chunked(b"abcdef", b"ghijk"))  # 6 + 5 > 10
    assert transport.value().startswith(b"HTTP/1.1 413 Content Too Large\r\n")
    assert transport.value().endswith(REFUSED_BODY)
    assert resource.bodies == []


def test_chunks_over_the_limit_in_separate_packets_get_413(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, max_body=10))
    protocol.dataReceived(post(b"Transfer-Encoding: chunked"))
    protocol.dataReceived(b"6\r\nabcdef\r\n")
    assert transport.value() == b""
    protocol.dataReceived(b"5\r\nghijk\r\n")
    assert transport.value().startswith(b"HTTP/1.1 413 ")
    protocol.dataReceived(b"0\r\n\r\n")
    assert resource.bodies == []
    assert transport.value().count(b"HTTP/1.1 ") == 1


def test_chunks_that_add_up_to_the_limit_reach_the_resource_whole(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, max_body=10))
    protocol.dataReceived(chunked(b"abcdef", b"ghij"))  # 6 + 4 == 10
    assert resource.bodies == [b"abcdefghij"]
    assert transport.value().startswith(b"HTTP/1.1 200 OK\r\n")


def test_no_max_body_means_no_limit(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, max_body=None))
    body = b"x" * 200_000
    protocol.dataReceived(post(b"Content-Length: %d" % len(body), body))
    assert resource.bodies == [body]
    assert transport.value().startswith(b"HTTP/1.1 200 OK\r\n")


def test_the_limit_is_per_request_on_a_kept_alive_connection(clock):
    resource = Recorder()
    protocol, transport = connect(limited(resource, clock, max_body=10))
    protocol.dataReceived(chunked(b"abcdef"))
    protocol.dataReceived(chunked(b"ghijkl"))  # 12 on the connection, 6 each.
    assert resource.bodies == [b"abcdef", b"ghijkl"]
    assert transport.value().count(b"HTTP/1.1 200 OK\r\n") == 2
