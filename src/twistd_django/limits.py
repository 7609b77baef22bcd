"""Limits on what a client may send: the time to send a request's head, and
the size of its body.

Twisted's ``HTTPChannel`` has an idle timeout that restarts with every byte,
so a client that sends its headers a byte at a time keeps its connection,
and its file descriptor, for ever. And Twisted buffers a request body of any
size, to memory or to a temporary file, before the resource sees it.
"""

from io import BytesIO

from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.web.http import HTTPChannel
from twisted.web.server import Request, Site

from twistd_django.twisted_private import GenericHTTPChannelProtocol

LINGER = 2.0  # Seconds to read and drop a refused body, so that the 413 arrives.


class LimitedChannel(HTTPChannel):
    """An ``HTTPChannel`` with a deadline for each request's head.

    The deadline runs from the connection's start, or from the end of the
    previous response, until the last header line has arrived. When it passes,
    the connection is closed the way Twisted closes an idle one.
    """

    log = Logger()
    refused = False
    _headCall = None
    _lingerCall = None

    def connectionMade(self):
        super().connectionMade()
        self._startHeadDeadline()

    def _startHeadDeadline(self):
        if self.site.headTimeout and self._headCall is None:
            self._headCall = self.callLater(self.site.headTimeout, self._headTooSlow)

    def _stopHeadDeadline(self):
        if self._headCall is not None and self._headCall.active():
            self._headCall.cancel()
        self._headCall = None

    def setTimeout(self, period):
        if period is None:  # Timeouts off: while a response is made, or for
            self._stopHeadDeadline()  # good when the wrapper switches to HTTP/2.
        return super().setTimeout(period)

    def _headTooSlow(self):
        self._headCall = None
        self.timeoutConnection()

    def allHeadersReceived(self):
        self._stopHeadDeadline()
        super().allHeadersReceived()

    def requestDone(self, request):
        # Before Twisted parses what the client already sent of the next one.
        self._startHeadDeadline()
        super().requestDone(request)

    def dataReceived(self, data):
        if not self.refused:
            super().dataReceived(data)

    def refuseBody(self, length):
        """Answer 413 now, drop the rest of the body, and close soon."""
        limit = self.site.maxBody
        self.log.warn(
            "Refused a request body of {length} bytes, over the limit of"
            " {limit}, from {peer}.",
            length=length,
            limit=limit,
            peer=str(self.transport.getPeer()),
        )
        self.refused = True
        self._stopHeadDeadline()
        body = f"Request body over the limit of {limit} bytes.\n".encode()
        self.transport.write(
            b"HTTP/1.1 413 Content Too Large\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        # Closing a socket with unread data in it sends a reset, which can
        # destroy the 413 before the client reads it: half-close, and read on.
        if IPushProducer.providedBy(self.transport):  # HTTPChannel registered
            self.transport.unregisterProducer()  # itself with it.
        half_close = getattr(self.transport, "loseWriteConnection", None)
        (half_close or self.transport.loseConnection)()
        self._lingerCall = self.callLater(LINGER, self.transport.abortConnection)

    def connectionLost(self, reason):
        self._stopHeadDeadline()
        if self._lingerCall is not None and self._lingerCall.active():
            self._lingerCall.cancel()
        super().connectionLost(reason)


class LimitedRequest(Request):
    """A ``Request`` that refuses a body over ``site.maxBody`` bytes, whether
    its Content-Length says so or its chunks add up to it, before it is
    buffered."""

    _received = 0

    def gotLength(self, length):
        if not isinstance(self.channel, LimitedChannel):  # An HTTP/2 stream.
            return super().gotLength(length)
        limit = self.channel.site.maxBody
        if limit is not None and length is not None and length > limit:
            self.requestHeaders.removeHeader(b"expect")  # No 100 Continue.
            self.content = BytesIO()
            self.channel.refuseBody(length)
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if not isinstance(self.channel, LimitedChannel):
            return super().handleContentChunk(data)
        if self.channel.refused:
            return
        self._received += len(data)
        limit = self.channel.site.maxBody
        if limit is not None and self._received > limit:
            self.channel.refuseBody(f"over {limit}")
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if not getattr(self.channel, "refused", False):
            super().requestReceived(command, path, version)


def limited_channel(site):
    """Twisted's own wrapper, which switches to HTTP/2 when TLS negotiates it
    (the limits then do not apply: HTTP/2 has flow control of its own)."""
    return GenericHTTPChannelProtocol(LimitedChannel())


class LimitedSite(Site):
    """A ``Site`` whose connections have these limits. ``head_timeout`` in
    seconds, ``max_body`` in bytes; ``None`` or 0 turns a limit off."""

    protocol = limited_channel
    requestFactory = LimitedRequest

    def __init__(self, resource, *, head_timeout=None, max_body=None, **kwargs):
        super().__init__(resource, **kwargs)
        self.headTimeout = head_timeout or None
        self.maxBody = max_body or None
