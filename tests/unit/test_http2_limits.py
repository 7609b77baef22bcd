"""The limits over HTTP/2, per stream: the site's protocol on a transport
that negotiated h2, driven by the h2 library's own client state machine."""

import functools

import h2.config
import h2.connection
import h2.events
import pytest
from twisted.internet.testing import StringTransport
from twisted.web import _http2, http
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from twistd_django.limits import LINGER, LimitedSite

CLIENT = h2.config.H2Configuration(client_side=True, header_encoding=None)


@pytest.fixture(autouse=True)
def h2_on_the_clock(monkeypatch, clock):
    """Twisted's wrapper makes its H2Connection on the global reactor, whose
    send loop would then never run here, and leave calls behind it: make it
    on the test's Clock."""
    monkeypatch.setattr(
        http, "H2Connection", functools.partial(_http2.H2Connection, reactor=clock)
    )


class Recorder(Resource):
    isLeaf = True

    def __init__(self):
        super().__init__()
        self.bodies, self.held = [], []

    def render(self, request):
        self.bodies.append(request.content.read())
        if request.path == b"/held":
            self.held.append(request)
            return NOT_DONE_YET
        return b"ok"


class H2Client:
    """An h2 client connected to the site's protocol through a transport
    that says it negotiated h2."""

    def __init__(self, site):
        self.transport = StringTransport()
        self.transport.negotiatedProtocol = b"h2"
        self.protocol = site.buildProtocol(None)
        self.protocol.makeConnection(self.transport)
        self.conn = h2.connection.H2Connection(config=CLIENT)
        self.conn.initiate_connection()
        self.events = []

    def send(self, data=None):
        self.protocol.dataReceived(self.conn.data_to_send() if data is None else data)
        self.receive()

    def receive(self):
        data = self.transport.value()
        self.transport.clear()
        if data:
            self.events += self.conn.receive_data(data)
            pending = self.conn.data_to_send()  # Acks, window updates.
            if pending and not self.transport.disconnecting:
                self.protocol.dataReceived(pending)

    def request(self, method, path, length=None, end=False):
        headers = [
            (b":method", method),
            (b":path", path),
            (b":scheme", b"https"),
            (b":authority", b"example.com"),
        ]
        if length is not None:
            headers.append((b"content-length", b"%d" % length))
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, headers, end_stream=end)
        return stream_id

    def of(self, kind, stream_id=None):
        return [
            e
            for e in self.events
            if isinstance(e, kind)
            and (stream_id is None or getattr(e, "stream_id", None) == stream_id)
        ]

    def status(self, stream_id):
        (response,) = self.of(h2.events.ResponseReceived, stream_id)
        return int(dict(response.headers)[b":status"])

    def body(self, stream_id):
        return b"".join(e.data for e in self.of(h2.events.DataReceived, stream_id))


def site(clock, **limits):
    return LimitedSite(Recorder(), reactor=clock, **limits)


def test_a_content_length_over_the_limit_gets_413_then_a_reset(clock):
    client = H2Client(site(clock, max_body=100_000))
    sid = client.request(b"POST", b"/upload", length=200_000)
    client.conn.send_data(sid, b"x" * 16384)
    client.send()
    clock.advance(0)
    client.receive()
    assert client.status(sid) == 413
    assert client.body(sid) == b"Request body over the limit of 100000 bytes.\n"
    assert client.of(h2.events.StreamEnded, sid)
    client.conn.send_data(sid, b"x" * 16384)  # Read and dropped meanwhile.
    client.send()
    assert client.of(h2.events.StreamReset, sid) == []
    clock.advance(LINGER)  # The client did not end its body: reset it.
    client.receive()
    (reset,) = client.of(h2.events.StreamReset, sid)
    assert reset.error_code == 0  # NO_ERROR: stop sending, nothing wrong.
    assert client.protocol.h2.streams == {}
    assert not client.transport.disconnecting


def test_a_client_that_ends_its_refused_body_is_not_reset(clock):
    client = H2Client(site(clock, max_body=10))
    sid = client.request(b"POST", b"/upload", length=20)
    client.send()
    clock.advance(0)
    client.receive()
    assert client.status(sid) == 413
    client.conn.send_data(sid, b"x" * 20, end_stream=True)  # As httpx does.
    client.send()
    clock.advance(0)
    client.receive()
    assert client.protocol.h2.streams == {}
    clock.advance(LINGER)
    client.receive()
    assert client.of(h2.events.StreamReset, sid) == []


def test_data_frames_adding_up_over_the_limit_get_413(clock):
    resource = Recorder()
    client = H2Client(LimitedSite(resource, reactor=clock, max_body=10))
    sid = client.request(b"POST", b"/upload")
    client.conn.send_data(sid, b"x" * 6)
    client.send()
    client.conn.send_data(sid, b"y" * 6)
    client.send()
    clock.advance(0)
    client.receive()
    assert client.status(sid) == 413
    assert resource.bodies == []


def test_a_body_at_the_limit_reaches_the_resource(clock):
    resource = Recorder()
    client = H2Client(LimitedSite(resource, reactor=clock, max_body=10))
    sid = client.request(b"POST", b"/upload", length=10)
    client.conn.send_data(sid, b"0123456789", end_stream=True)
    client.send()
    assert resource.bodies == [b"0123456789"]


def test_a_connection_that_sends_no_request_is_closed_at_the_head_deadline(clock):
    client = H2Client(site(clock, head_timeout=20))
    client.send()  # The preface and SETTINGS, no HEADERS.
    clock.advance(19)
    assert not client.transport.disconnecting
    clock.advance(1)
    assert client.transport.disconnecting
    client.receive()
    (goaway,) = client.of(h2.events.ConnectionTerminated)
    assert goaway.error_code == 0


def test_headers_trickled_a_byte_a_second_are_cut_at_the_deadline(clock):
    client = H2Client(site(clock, head_timeout=20))
    client.send()
    client.request(b"GET", b"/", end=True)
    frame = client.conn.data_to_send()
    for byte in frame[:-1][:25]:  # Each byte restarts the idle timeout.
        client.protocol.dataReceived(bytes([byte]))
        clock.advance(1)
        if client.transport.disconnecting:
            break
    assert client.transport.disconnecting
    assert clock.seconds() == 20


def test_an_open_stream_holds_off_the_head_deadline_until_it_ends(clock):
    resource = Recorder()
    client = H2Client(LimitedSite(resource, reactor=clock, head_timeout=20))
    client.request(b"GET", b"/held", end=True)
    client.send()
    clock.advance(30)  # The view takes 30 s: no deadline meanwhile.
    assert not client.transport.disconnecting
    resource.held[0].finish()
    clock.advance(19)
    assert not client.transport.disconnecting
    clock.advance(1)
    assert client.transport.disconnecting


def test_a_body_trickled_a_byte_a_second_gets_408_on_its_stream(clock):
    resource = Recorder()
    client = H2Client(LimitedSite(resource, reactor=clock, body_timeout=5))
    sid = client.request(b"POST", b"/upload", length=10)
    client.send()
    for _ in range(5):
        client.conn.send_data(sid, b"x")
        client.send()
        clock.advance(1)
    client.receive()
    assert client.status(sid) == 408
    clock.advance(LINGER)
    client.receive()
    assert client.of(h2.events.StreamReset, sid)
    assert resource.bodies == []
    # The connection goes on serving other streams.
    other = client.request(b"GET", b"/", end=True)
    client.send()
    assert resource.bodies == [b""]
    assert other != sid


@pytest.mark.parametrize("limits", [{"max_body": 100}, {"body_timeout": 5}])
def test_a_refused_stream_has_its_line_in_the_access_log(clock, tmp_path, limits):
    """No Request finishes for a stream the limits answer: the answer is
    logged all the same, with the stream's method, path and headers."""
    access = tmp_path / "access.log"
    limited = LimitedSite(Recorder(), reactor=clock, logPath=str(access), **limits)
    limited.startFactory()
    client = H2Client(limited)
    sid = client.request(b"POST", b"/upload", length=200)
    client.conn.send_data(sid, b"x")
    client.send()
    clock.advance(5)
    client.receive()
    status = client.status(sid)
    assert status == (413 if "max_body" in limits else 408)
    client.request(b"GET", b"/served", end=True)
    client.send()
    limited.stopFactory()
    refused, served = access.read_text().splitlines()
    assert f'"POST /upload HTTP/2" {status} {len(client.body(sid))} ' in refused
    assert '"GET /served HTTP/2" 200 ' in served


@pytest.mark.parametrize("busy", [False, True])
def test_the_drain_closes_an_h2_connection_with_goaway(clock, busy):
    resource = Recorder()
    limited = LimitedSite(resource, reactor=clock)
    client = H2Client(limited)
    if busy:
        client.request(b"GET", b"/held", end=True)
    client.send()
    limited.drain()
    if busy:
        assert not client.transport.disconnecting
        sid = client.request(b"GET", b"/late", end=True)
        client.send()
        clock.advance(0)
        assert [r.path for r in resource.held] == [b"/held"]  # No new work.
        assert resource.bodies == [b""]
        assert not client.transport.disconnecting
        resource.held[0].finish()
        for _ in range(5):  # Twisted's send loop, then the drain's next look.
            clock.advance(0.05)
        client.receive()
        assert client.status(sid) == 503
        assert client.of(h2.events.StreamEnded, 1)
    assert client.transport.disconnecting
    client.receive()
    assert client.of(h2.events.ConnectionTerminated)
