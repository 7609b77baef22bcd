"""Every private Twisted name that twistd-django uses, and a check of each.

No public Twisted API serves these needs; each name carries a line saying
why. A Twisted release may rename or change any of them, so ``check()``
runs before the plugin builds its service: if one is missing, or does not
behave as the package expects, twistd refuses to start, with an error that
names the Twisted version and the name. No other module of the package
touches a private Twisted name.
"""

import re
from importlib import metadata

import twisted
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web import http, wsgi

try:
    from twisted.web import _http2
except ImportError:  # No h2 installed: Twisted offers no HTTP/2.
    _http2 = None


class Missing:
    """Stands in for a missing class, so that the package still imports and
    ``check()`` can say what is missing."""


# Why: WSGIResource makes one _WSGIResponse per request and has no public
# way to change how a response is written back or what its environ holds;
# the package's response (writeback.py) subclasses it.
WSGIResponse = getattr(wsgi, "_WSGIResponse", Missing)

# Why: Site's default protocol wraps every HTTPChannel in this class, which
# switches the connection to HTTP/2 when TLS negotiates h2; no public
# factory takes an HTTPChannel subclass and keeps that switch.
GenericHTTPChannelProtocol = getattr(http, "_GenericHTTPChannelProtocol", Missing)


class BadRequestHook:
    """A mixin for an ``HTTPChannel`` subclass, before it in the bases: once
    Twisted's parser has answered a request with its bare ``400 Bad
    Request`` and closed the connection, it calls ``badRequestAnswered()``.

    Why: HTTPChannel answers a request it cannot parse (a malformed request
    line or header, two lengths, a bad chunk, too many headers) on the
    connection itself, through its private ``_respondToBadRequestAndDisconnect``,
    with no Request to reach the access log and no public hook to tell.
    """

    def badRequestAnswered(self):
        """Twisted has written its 400 on this channel, and closes it."""

    def _respondToBadRequestAndDisconnect(self):
        super()._respondToBadRequestAndDisconnect()
        self.badRequestAnswered()


def current_channel(protocol):
    """The channel that a ``GenericHTTPChannelProtocol`` speaks through now:
    its ``HTTPChannel``, or the ``H2Connection`` it switched to.

    Why: the wrapper replaces its HTTPChannel with an H2Connection when TLS
    negotiates h2, and has no public attribute for the channel in use; the
    limits and the drain must reach the HTTP/2 connection.
    """
    return protocol._channel


def h2_answer(stream, status, headers, body):
    """Answer an HTTP/2 stream whose request is not whole yet (a body over
    the limit, or too slow): the status, ``headers`` (a list of lower-case
    (name, value) bytes pairs) and ``body``, with END_STREAM, now. The
    stream stays known to Twisted, which goes on reading (and the request
    dropping) the client's DATA frames until ``h2_forget``. Returns False
    if the stream is already gone.

    Why: H2Stream and H2Connection (twisted.web._http2) have no public way to
    answer before the request's END_STREAM: a response through the Request
    waits for the request; the stream's connection is its private
    ``_conn``, and its h2 state machine the connection's ``conn``.
    """
    connection = stream._conn
    stream_id = stream.streamID
    if stream_id not in connection.streams:
        return False
    h2conn = connection.conn
    try:
        h2conn.send_headers(stream_id, [(b":status", b"%d" % status), *headers])
        if body and h2conn.local_flow_control_window(stream_id) >= len(body):
            h2conn.send_data(stream_id, body, end_stream=True)
        else:
            h2conn.end_stream(stream_id)
    except Exception:  # h2's ProtocolError: the stream closed meanwhile.
        return False
    return connection._tryToWriteControlData()


def h2_forget(stream, reset):
    """Drop Twisted's state for an answered HTTP/2 stream, as Twisted's own
    ``_respondToBadRequestAndDisconnect`` does; with ``reset``, first send
    RST_STREAM (NO_ERROR), so that a client still sending its body stops
    (RFC 9113 section 8.1).

    Why: only H2Connection's private ``_requestDone`` forgets a stream;
    forgotten without a reset, the client's next DATA frame would raise
    KeyError in H2Connection, and after a reset h2 ignores its frames.
    """
    connection = stream._conn
    stream_id = stream.streamID
    if stream_id not in connection.streams:
        return
    if reset:
        try:
            connection.conn.reset_stream(stream_id, error_code=0)
        except Exception:  # Closed already: nothing to reset.
            pass
    if connection._tryToWriteControlData():
        stream.connectionLost(Failure(ConnectionLost("Refused by twistd-django")))
        connection._requestDone(stream_id)


def h2_close(connection):
    """Send GOAWAY (NO_ERROR) on an H2Connection with no stream open, and
    close it once what it has to send is sent.

    Why: H2Connection's only way to close is ``timeoutConnection``, which
    leaves the H2Connection registered as its transport's producer; over
    TLS the transport then never starts its shutdown (TLSMemoryBIOProtocol
    waits for the producer to go), and the connection stays open until the
    15 s abort. Its h2 state machine is its ``conn`` attribute.
    """
    connection.conn.close_connection(error_code=0)
    connection.transport.write(connection.conn.data_to_send())
    connection.transport.unregisterProducer()
    connection.transport.loseConnection()


class TwistedIncompatible(SystemExit):
    """twistd exits with status 1 and this message, with no traceback."""

    def __init__(self, name, problem):
        super().__init__(
            f"twistd django: Twisted {twisted.__version__} does not have what"
            f" twistd-django relies on: {name} {problem}. twistd-django"
            f" supports {supported_twisted()}."
        )


def supported_twisted():
    """The Twisted range that the installed package declares."""
    try:
        requires = metadata.requires("twistd-django") or []
    except metadata.PackageNotFoundError:
        return "the Twisted range in its pyproject.toml"
    for requirement in requires:
        spec, _, marker = requirement.partition(";")
        found = re.fullmatch(r"\s*twisted\s*(\[[^\]]*\])?\s*(.*?)\s*", spec, re.I)
        if found and "extra" not in marker:
            return f"Twisted {found.group(2)}"
    return "the Twisted range in its metadata"


def _check_wsgi_response():
    response = getattr(wsgi, "_WSGIResponse", None)
    if response is None or response is not WSGIResponse:
        return "is missing"
    for method in ("startResponse", "write", "run", "start"):
        if not callable(getattr(response, method, None)):
            return f"has no method {method}()"
    try:
        code = response.__init__.__code__
    except AttributeError:
        return "has no __init__"
    expected = ("self", "reactor", "threadpool", "application", "request")
    if code.co_varnames[: code.co_argcount] != expected:
        return f"takes {code.co_varnames[: code.co_argcount]}, not {expected}"
    return None


def _check_generic_channel():
    wrapper = getattr(http, "_GenericHTTPChannelProtocol", None)
    if wrapper is None or wrapper is not GenericHTTPChannelProtocol:
        return "is missing"
    channel = http.HTTPChannel()
    try:
        protocol = wrapper(channel)
        marker = object()
        protocol.requestFactory = marker
        forwarded = channel.requestFactory is marker
    except Exception as error:
        return f"cannot wrap an HTTPChannel ({error!r})"
    if not forwarded:
        return "does not pass its attributes on to the HTTPChannel it wraps"
    return None


def _check_current_channel():
    channel = http.HTTPChannel()
    try:
        found = current_channel(GenericHTTPChannelProtocol(channel))
    except Exception as error:
        return f"has no channel to reach ({error!r})"
    if found is not channel:
        return "does not keep the channel it wraps in _channel"
    return None


class _BadRequestProbe(BadRequestHook, http.HTTPChannel):
    answered = 0

    def badRequestAnswered(self):
        self.answered += 1


BAD_REQUESTS = [
    ("a malformed request line", b"NOT-HTTP\r\n\r\n"),
    ("a header line without a colon", b"GET / HTTP/1.1\r\nNo colon\r\n\r\n"),
]


def _check_bad_request_hook():
    """Twisted's parser answers each bad request through the method that
    ``BadRequestHook`` wraps, once, with its 400."""
    if not callable(
        getattr(http.HTTPChannel, "_respondToBadRequestAndDisconnect", None)
    ):
        return "is missing"
    from twisted.internet.task import Clock
    from twisted.internet.testing import StringTransport

    for what, data in BAD_REQUESTS:
        channel = _BadRequestProbe()
        channel.timeOut = None
        channel.callLater = Clock().callLater
        transport = StringTransport()
        try:
            channel.makeConnection(transport)
            channel.dataReceived(data)
            channel.connectionLost(Failure(ConnectionLost("Probe done")))
        except Exception as error:
            return f"fails on {what} ({error!r})"
        if channel.answered != 1 or not transport.value().startswith(b"HTTP/1.1 400 "):
            return f"is not how HTTPChannel answers {what} with 400"
    return None


class _StubRequest:
    """What H2Stream asks of the request it makes, and no more."""

    def __init__(self, channel, queued=None):
        self.requestHeaders = http.Headers()

    def gotLength(self, length):
        pass

    def parseCookies(self):
        pass


def _check_h2():
    """The HTTP/2 names that ``h2_answer``, ``h2_forget`` and ``h2_close`` use, on a stream made
    the way H2Connection makes one. Without h2 there is no HTTP/2 to limit."""
    if _http2 is None:
        return None
    from twisted.internet.task import Clock

    try:
        connection = _http2.H2Connection(reactor=Clock())
        stream = _http2.H2Stream(
            1,
            connection,
            [(b":method", b"GET"), (b":path", b"/")],
            _StubRequest,
            None,
            None,
        )
    except Exception as error:
        return f"cannot make a stream ({error!r})"
    if getattr(stream, "_conn", None) is not connection:
        return "H2Stream does not keep its connection in _conn"
    for name in ("_requestDone", "_tryToWriteControlData"):
        if not callable(getattr(connection, name, None)):
            return f"H2Connection has no method {name}()"
    if not isinstance(getattr(connection, "streams", None), dict):
        return "H2Connection has no streams dict"
    if not callable(getattr(getattr(connection, "conn", None), "reset_stream", None)):
        return "H2Connection.conn is not an h2 connection"
    return None


ASSUMPTIONS = [
    ("twisted.web.wsgi._WSGIResponse", _check_wsgi_response),
    ("twisted.web.http._GenericHTTPChannelProtocol", _check_generic_channel),
    ("twisted.web.http._GenericHTTPChannelProtocol._channel", _check_current_channel),
    ("twisted.web._http2 H2Stream._conn, H2Connection._requestDone", _check_h2),
    (
        "twisted.web.http.HTTPChannel._respondToBadRequestAndDisconnect",
        _check_bad_request_hook,
    ),
]


def check():
    """Raise ``TwistedIncompatible`` unless every assumption above holds."""
    for name, assumption in ASSUMPTIONS:
        problem = assumption()
        if problem:
            raise TwistedIncompatible(name, problem)
