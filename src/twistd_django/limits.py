"""Limits on what a client may send, and a drain that lets the last
responses out on shutdown.

Twisted's ``HTTPChannel`` has an idle timeout that restarts with every byte,
so a client that sends its headers, or its body, a byte at a time keeps its
connection, and its file descriptor, for ever. Twisted buffers a request
body of any size, to memory or to a temporary file, before the resource
sees it. Its parser takes two ``Transfer-Encoding`` lines, ``chunked`` then
``identity``, as chunked, and folds an obs-fold line into the header before
it, where a proxy in front may read a header of its own (request smuggling);
and a header line over 16 KiB closes the connection with no answer at all.

The same limits hold for HTTP/2, per stream: Twisted's ``H2Connection``
makes a ``LimitedRequest`` for each stream, and the connection's wrapper,
``LimitedProtocol``, keeps the head deadline while no stream is open.

On shutdown, ``LimitedSite.drain()`` closes the connections that have no
request in flight, lets each response in flight finish with
``Connection: close``, answers 503 to a request that would start work, and
keeps the access log open until the last connection is gone: Twisted closes
it when the port stops listening, before the responses of the drain.

Every answer that the limits write themselves, and every bare ``400`` of
Twisted's parser, has its line in the access log (``twistd_django.refusals``).
"""

from io import BytesIO

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.web.http import HTTPChannel
from twisted.web.server import Request, Site

from twistd_django import twisted_private
from twistd_django.closing import half_close
from twistd_django.logfile import ReopeningFile
from twistd_django.refusals import Refusal, request_line
from twistd_django.twisted_private import BadRequestHook, GenericHTTPChannelProtocol

LINGER = 2.0  # Seconds to read and drop a refused body, so that the answer arrives.
DRAIN_POLL = 0.05  # Seconds between two looks at the connections, in a drain.
REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    413: b"Content Too Large",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
}
SHUTTING_DOWN = b"Shutting down: send the request again on a new connection.\n"


class LimitedChannel(BadRequestHook, HTTPChannel):
    """An ``HTTPChannel`` with a deadline for each request's head and one for
    its body, a stricter parser, and a drain.

    The head deadline runs from the connection's start, or from the end of
    the previous response, until the last header line has arrived; the body
    deadline from then until the body is whole. When the head deadline
    passes, the connection is closed the way Twisted closes an idle one;
    when the body deadline passes, the client gets 408.

    A refusal, its own or Twisted's 400, writes its line in the access log
    (``twistd_django.refusals``), with the request line and the headers
    that had arrived.
    """

    log = Logger()
    refused = False
    draining = False
    phase = "idle"  # idle, head (request line or headers), body, busy.
    headExpires = None  # When the head deadline passes (site.reactor's clock).
    _headCall = None
    _bodyCall = None
    _lingerCall = None
    _headLines = 0
    _headBytes = 0
    _codings = ()
    _requestLine = None  # The request line of the request being read, as sent.
    _headRequest = None  # The Request that Twisted made for it.

    def connectionMade(self):
        super().connectionMade()
        self._startHeadDeadline()

    def _startHeadDeadline(self):
        if self.site.headTimeout and self._headCall is None:
            self.headExpires = self.site.reactor.seconds() + self.site.headTimeout
            self._headCall = self.callLater(self.site.headTimeout, self._headTooSlow)

    def _stopHeadDeadline(self):
        if self._headCall is not None and self._headCall.active():
            self._headCall.cancel()
        self._headCall = None

    def _stopBodyDeadline(self):
        if self._bodyCall is not None and self._bodyCall.active():
            self._bodyCall.cancel()
        self._bodyCall = None

    def setTimeout(self, period):
        if period is None:  # Timeouts off: while a response is made, or for
            self._stopHeadDeadline()  # good when the wrapper switches to HTTP/2.
        return super().setTimeout(period)

    def _headTooSlow(self):
        self._headCall = None
        self.timeoutConnection()

    def _bodyTooSlow(self):
        self._bodyCall = None
        self.refuse(
            408,
            f"The request body took longer than {self.site.bodyTimeout:g} s.\n",
            "Refused a request body still incomplete after {timeout} s, from {peer}.",
            timeout=self.site.bodyTimeout,
        )

    # The parser, made stricter.

    def lineReceived(self, line):
        if self.refused:
            return None
        if self._headLines == 0 and not line:
            return super().lineReceived(line)  # The empty line Twisted skips.
        self._headLines += 1
        self._headBytes += len(line)
        if self._headLines == 1:
            self.phase = "head"
            self._requestLine = line
        elif line[:1] in (b" ", b"\t"):
            # RFC 9112 section 5.2: reject obs-fold, or a proxy in front may
            # read the folded line as a header of its own.
            return self.refuse(400, "Obsolete line folding in a header.\n")
        if self._headBytes > self.totalHeadersSize:
            return self.refuse(431, "The request's headers are too large.\n")
        result = super().lineReceived(line)
        if self._headLines == 1 and self.requests and not self.refused:
            self._headRequest = self.requests[-1]  # Twisted made it just now.
        return result

    def lineLengthExceeded(self, line):
        """One line longer than ``MAX_LENGTH`` (16 KiB): Twisted closes the
        connection without a word; answer 414 or 431, as RFC 9112 asks."""
        if self._headLines == 0:
            return self.refuse(414, "The request target is too long.\n")
        return self.refuse(431, "A request header is too large.\n")

    def headerReceived(self, line):
        name, colon, value = line.partition(b":")
        if colon and name.lower() == b"transfer-encoding":
            # RFC 9112 section 6.3: chunked must be the final coding, across
            # every Transfer-Encoding line; the only one Twisted decodes.
            codings = [c.strip().lower() for c in value.split(b",") if c.strip()]
            self._codings = [*self._codings, *codings]
            if self._codings != [b"chunked"]:
                self.refuse(400, "Transfer-Encoding other than chunked alone.\n")
                return False
        return super().headerReceived(line)

    def allHeadersReceived(self):
        self._stopHeadDeadline()
        self.phase = "body"
        super().allHeadersReceived()
        if self.length != 0 and self.site.bodyTimeout and not self.refused:
            self._bodyCall = self.callLater(self.site.bodyTimeout, self._bodyTooSlow)

    def checkPersistence(self, request, version):
        if self.draining:
            request.responseHeaders.setRawHeaders(b"connection", [b"close"])
            return False
        return super().checkPersistence(request, version)

    def allContentReceived(self):
        self._stopBodyDeadline()
        self.phase = "busy"
        super().allContentReceived()

    def rawDataReceived(self, data):
        if not self.refused:
            super().rawDataReceived(data)

    def requestDone(self, request):
        # Before Twisted parses what the client already sent of the next one.
        self.phase = "idle"
        self._headLines = self._headBytes = 0
        self._codings = ()
        self._requestLine = self._headRequest = None
        if not self.draining:
            self._startHeadDeadline()
        super().requestDone(request)

    def dataReceived(self, data):
        if not self.refused:
            super().dataReceived(data)

    # Refusals.

    def refuseBody(self, length):
        """Answer 413 now, drop the rest of the body, and close soon."""
        limit = self.site.maxBody
        self.refuse(
            413,
            f"Request body over the limit of {limit} bytes.\n",
            "Refused a request body of {length} bytes, over the limit of"
            " {limit}, from {peer}.",
            length=length,
            limit=limit,
        )

    def refuse(self, status, message, warning=None, **fields):
        """Answer ``status`` with ``message`` now, drop whatever the client
        sends next, and close soon."""
        if self.refused:
            return
        if warning:
            self.log.warn(warning, peer=str(self.transport.getPeer()), **fields)
        self.refused = True
        self._stopHeadDeadline()
        self._stopBodyDeadline()
        body = message.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (status, REASONS[status], len(body), body)
        )
        if IPushProducer.providedBy(self.transport):  # HTTPChannel registered
            self.transport.unregisterProducer()  # itself with it.
        half_close(self.transport)  # Read on and drop, so that the answer arrives.
        self._lingerCall = self.callLater(LINGER, self.transport.abortConnection)
        self._logRefusal(status, len(body))

    def badRequestAnswered(self):
        """Twisted's parser has answered 400 and closes the connection
        (``twisted_private.BadRequestHook``): log it, and drop the rest."""
        if self.refused:
            return
        self.refused = True
        self._stopHeadDeadline()
        self._stopBodyDeadline()
        self._logRefusal(400, 0)

    def _logRefusal(self, status, length):
        """The access log's line for an answer that no Request reports."""
        headers = (
            None if self._headRequest is None else self._headRequest.requestHeaders
        )
        method, uri, version = request_line(self._requestLine)
        refusal = Refusal(status, length, self.getPeer(), method, uri, version, headers)
        self.site.log(refusal)

    # The drain.

    def drain(self):
        """No new work: close the connection now if no request is in flight
        on it (nothing, or a head still coming), answer 503 to a request
        whose body is still coming, and close after the response in flight,
        which says ``Connection: close`` if its headers are not sent yet."""
        self.draining = True
        self._stopHeadDeadline()
        if self.refused:
            return
        if self.phase in ("idle", "head"):
            self.loseConnection()
        elif self.phase == "body":
            self.refuse(503, SHUTTING_DOWN.decode())
        else:
            self.persistent = False
            for request in self.requests:
                if not request.startedWriting:
                    request.responseHeaders.setRawHeaders(b"connection", [b"close"])

    def connectionLost(self, reason):
        self._stopHeadDeadline()
        self._stopBodyDeadline()
        if self._lingerCall is not None and self._lingerCall.active():
            self._lingerCall.cancel()
        super().connectionLost(reason)


class LimitedRequest(Request):
    """A ``Request`` that refuses a body over ``site.maxBody`` bytes, whether
    its Content-Length says so or its chunks (HTTP/1.1) or DATA frames
    (HTTP/2) add up to it, before it is buffered; that gets 408 if its body
    is not whole within ``site.bodyTimeout`` seconds; and that answers 503
    instead of starting work once the site drains."""

    _received = 0
    _bodyCall = None
    _lingerCall = None
    refusedStream = False  # HTTP/2: answered by the limits.
    streamEnded = False  # HTTP/2: the client has sent END_STREAM.

    def _limitedSite(self):
        return self.channel.site

    def gotLength(self, length):
        site = self._limitedSite()
        if self._isHTTP2() and length != 0 and site.bodyTimeout:
            # Over HTTP/1.1 the channel keeps the body deadline.
            if self._bodyCall is None:
                self._bodyCall = site.reactor.callLater(
                    site.bodyTimeout, self._bodyTooSlow
                )
        limit = site.maxBody
        if limit is not None and length is not None and length > limit:
            self.requestHeaders.removeHeader(b"expect")  # No 100 Continue.
            self.content = BytesIO()
            self._refuseBody(length)
            return
        super().gotLength(length)

    def _isHTTP2(self):
        return not isinstance(self.channel, LimitedChannel)

    def _refuseBody(self, length):
        if not self._isHTTP2():
            self._stopBodyDeadline()
            self.channel.refuseBody(length)
            return
        limit = self._limitedSite().maxBody
        self._refuseStream(
            413,
            f"Request body over the limit of {limit} bytes.\n",
            "Refused an HTTP/2 request body of {length} bytes, over the limit"
            " of {limit}, from {peer}.",
            length=length,
            limit=limit,
        )

    def _bodyTooSlow(self):
        self._bodyCall = None
        timeout = self._limitedSite().bodyTimeout
        self._refuseStream(
            408,
            f"The request body took longer than {timeout:g} s.\n",
            "Refused an HTTP/2 request body still incomplete after {timeout} s,"
            " from {peer}.",
            timeout=timeout,
        )

    def _refuseStream(self, status, message, warning, **fields):
        """HTTP/2: answer this stream, in the next reactor turn (Twisted may
        still be setting the stream up, or be in the middle of the frames
        that came with it); then read and drop the rest of the body until
        the client ends the stream, for at most ``LINGER`` seconds, and
        reset it if it has not."""
        if self.refusedStream:
            return
        self.refusedStream = True
        self._stopBodyDeadline()
        LimitedChannel.log.warn(warning, peer=str(self.channel.getPeer()), **fields)
        body = message.encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"%d" % len(body)),
        ]
        self._limitedSite().reactor.callLater(
            0, self._answerStream, status, headers, body
        )

    def _answerStream(self, status, headers, body):
        if not twisted_private.h2_answer(self.channel, status, headers, body):
            return
        stream = self.channel  # An H2Stream: its command and path are public.
        refusal = Refusal(
            status,
            len(body),
            self.getClientAddress(),
            method=stream.command,
            uri=stream.path,
            version=b"HTTP/2",
            headers=self.requestHeaders,
        )
        self._limitedSite().log(refusal)
        if self.streamEnded:
            twisted_private.h2_forget(self.channel, reset=False)
        else:
            self._lingerCall = self._limitedSite().reactor.callLater(
                LINGER, twisted_private.h2_forget, self.channel, True
            )

    def _stopBodyDeadline(self):
        if self._bodyCall is not None and self._bodyCall.active():
            self._bodyCall.cancel()
        self._bodyCall = None

    def handleContentChunk(self, data):
        if getattr(self.channel, "refused", False) or self.refusedStream:
            return
        self._received += len(data)
        limit = self._limitedSite().maxBody
        if limit is not None and self._received > limit:
            self._refuseBody(f"over {limit}")
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        self._stopBodyDeadline()
        self.streamEnded = True
        if self.refusedStream:  # HTTP/2: answered; the body is all in now.
            if self._lingerCall is not None and self._lingerCall.active():
                self._lingerCall.cancel()
                self._limitedSite().reactor.callLater(
                    0, twisted_private.h2_forget, self.channel, False
                )
            return
        if not getattr(self.channel, "refused", False):
            super().requestReceived(command, path, version)

    def process(self):
        site = self._limitedSite()
        if not site.draining:
            return super().process()
        # Shutting down: no new work. Over HTTP/1.1 the channel has already
        # added Connection: close (HTTP/2 forbids that header).
        self.site = site
        self.setResponseCode(503)
        self.setHeader(b"content-type", b"text/plain; charset=utf-8")
        self.setHeader(b"content-length", b"%d" % len(SHUTTING_DOWN))
        self.setHeader(b"retry-after", b"1")
        self.write(SHUTTING_DOWN)
        self.finish()
        return None

    def connectionLost(self, reason):
        self._stopBodyDeadline()
        if self._lingerCall is not None and self._lingerCall.active():
            self._lingerCall.cancel()
        super().connectionLost(reason)


class LimitedProtocol(GenericHTTPChannelProtocol):
    """Twisted's wrapper, which switches to HTTP/2 when TLS negotiates it,
    with what the limits and the drain need of each connection: the site
    knows it, it makes the connection's requests, and over HTTP/2 it keeps
    the head deadline while no stream is open."""

    def __init__(self, channel, site):
        super().__init__(channel)
        self.limitedSite = site
        self.http1 = channel
        self.h2 = None  # The H2Connection, once switched.
        self.h2Requests = 0
        self.h2HeadCall = None
        self.abortCall = None
        self.gone = False

    def makeRequest(self, channel, queued=None):
        request = LimitedRequest(channel, queued)
        if not isinstance(channel, LimitedChannel):
            self._switched()
            self.h2Requests += 1
            self._stopH2HeadDeadline()
            request.notifyFinish().addBoth(self._h2RequestDone)
        return request

    def dataReceived(self, data):
        result = super().dataReceived(data)
        if self.h2 is None and not isinstance(self.channel(), LimitedChannel):
            self._switched()
        return result

    def channel(self):
        return twisted_private.current_channel(self)

    def _switched(self):
        if self.h2 is not None:
            return
        self.h2 = self.channel()
        site = self.limitedSite
        if site.draining:
            self.drain()
        elif not self.h2Requests and site.headTimeout:
            expires = self.http1.headExpires
            now = site.reactor.seconds()
            left = site.headTimeout if expires is None else max(0, expires - now)
            self._startH2HeadDeadline(left)

    def _startH2HeadDeadline(self, seconds):
        self._stopH2HeadDeadline()
        self.h2HeadCall = self.limitedSite.reactor.callLater(
            seconds, self._h2HeadTooSlow
        )

    def _stopH2HeadDeadline(self):
        if self.h2HeadCall is not None and self.h2HeadCall.active():
            self.h2HeadCall.cancel()
        self.h2HeadCall = None

    def _h2HeadTooSlow(self):
        self.h2HeadCall = None
        LimitedChannel.log.info(
            "HTTP/2 client sent no request within {timeout} s: {peer}",
            timeout=self.limitedSite.headTimeout,
            peer=str(self.h2.getPeer()),
        )
        self.closeH2()

    def closeH2(self):
        """GOAWAY and close; abort if the client holds on (as Twisted's
        H2Connection does after its idle timeout)."""
        if self.gone:
            return
        self.gone = True  # Closing: do not close it twice.
        twisted_private.h2_close(self.h2)
        self.abortCall = self.limitedSite.reactor.callLater(
            self.h2.abortTimeout, self.abort
        )

    def _h2RequestDone(self, result):
        self.h2Requests -= 1
        site = self.limitedSite
        if not self.h2Requests and not self.gone and not site.draining:
            if site.headTimeout:
                self._startH2HeadDeadline(site.headTimeout)

    def drain(self):
        """No new work on this connection; close it once nothing is in
        flight (see ``LimitedChannel.drain``). Over HTTP/2, the site's drain
        closes it with GOAWAY once its last stream is done."""
        if self.h2 is None:
            self.channel().drain()
            return
        self._stopH2HeadDeadline()
        self.closeIfIdle()

    def closeIfIdle(self):
        if self.h2 is not None and not self.h2.streams:
            self.closeH2()

    def close(self):
        transport = self.channel().transport
        if transport is not None:
            transport.loseConnection()

    def abort(self):
        transport = self.channel().transport
        if transport is not None:
            transport.abortConnection()

    def connectionLost(self, reason):
        self.gone = True
        self._stopH2HeadDeadline()
        if self.abortCall is not None and self.abortCall.active():
            self.abortCall.cancel()
        try:
            super().connectionLost(reason)
        finally:
            self.limitedSite.connectionGone(self)


def limited_channel(site):
    """One connection's protocol: Twisted's wrapper, which switches to
    HTTP/2 when TLS negotiates it, around a ``LimitedChannel``."""
    return LimitedProtocol(LimitedChannel(), site)


class LimitedSite(Site):
    """A ``Site`` whose connections have these limits, over HTTP/1.1 and
    HTTP/2. ``head_timeout`` and ``body_timeout`` in seconds, ``max_body`` in
    bytes; ``None`` or 0 turns a limit off. ``drain_timeout``: the most
    seconds ``drain()`` waits for the connections before it closes them.

    The access log (``logPath``) is a ``ReopeningFile``: ``SIGUSR1`` opens it
    anew after logrotate has moved it (see ``twistd_django.logfile``).
    """

    requestFactory = LimitedRequest
    draining = False

    def __init__(
        self,
        resource,
        *,
        head_timeout=None,
        max_body=None,
        body_timeout=None,
        drain_timeout=30,
        logPath=None,
        **kwargs,
    ):
        super().__init__(resource, **kwargs)
        self.headTimeout = head_timeout or None
        self.maxBody = max_body or None
        self.bodyTimeout = body_timeout or None
        self.drainTimeout = drain_timeout
        self.accessLogPath = logPath
        self.connections = set()
        self._stopWaiting = False
        self._drained = []
        self._drainCall = None
        self._drainDeadline = None

    def buildProtocol(self, addr):
        protocol = limited_channel(self)
        protocol.factory = self
        protocol.site = self
        protocol.requestFactory = protocol.makeRequest
        protocol.callLater = self.reactor.callLater
        protocol.timeOut = self.timeOut
        self.connections.add(protocol)
        return protocol

    def startFactory(self):
        super().startFactory()  # Opens no file: Site's logPath is None.
        if self.accessLogPath:
            self.logFile = ReopeningFile(self.accessLogPath)

    def stopFactory(self):
        """The port stopped listening. Close the access log only once the
        last connection is gone: the drain's responses are logged too."""
        if self.connections:
            self._stopWaiting = True
            return
        super().stopFactory()

    def connectionGone(self, protocol):
        self.connections.discard(protocol)
        if self.connections:
            return
        if self._stopWaiting:
            self._stopWaiting = False
            super().stopFactory()
        if self._drained:
            self._stopDrainLoop()
            drained, self._drained = self._drained, []
            for d in drained:
                d.callback(None)

    def drain(self):
        """Shut the connections down without cutting a response: fires once
        every connection is closed, aborting those still open after
        ``drain_timeout`` seconds (then it closes them, and fires)."""
        self.draining = True
        for protocol in list(self.connections):
            protocol.drain()
        if not self.connections:
            return succeed(None)
        d = Deferred()
        self._drained.append(d)
        if self._drainCall is None:
            self._drainDeadline = self.reactor.seconds() + (self.drainTimeout or 0)
            self._drainCall = self.reactor.callLater(DRAIN_POLL, self._drainStep)
        return d

    def _drainStep(self):
        self._drainCall = None
        if self.reactor.seconds() >= self._drainDeadline:
            # Out of time: close what is left (a view still running, a client
            # that does not read), and stop waiting for it.
            for protocol in list(self.connections):
                protocol.close()
            drained, self._drained = self._drained, []
            for d in drained:
                d.callback(None)
            return
        for protocol in list(self.connections):
            protocol.closeIfIdle()
        if self.connections:
            self._drainCall = self.reactor.callLater(DRAIN_POLL, self._drainStep)

    def _stopDrainLoop(self):
        if self._drainCall is not None and self._drainCall.active():
            self._drainCall.cancel()
        self._drainCall = None
