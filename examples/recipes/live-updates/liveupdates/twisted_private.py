"""The one private Twisted name that the recipe uses, and a check of it.

Why: ``twisted.web.websocket`` reassembles each incoming message in a
buffer of its wire protocol (``_textBuffer``, ``_bytesBuffer``) with no
limit, and delivers it only once it is whole: a page could send a message of
any size, and the daemon would hold all of it. Nothing public bounds it, so
``limit_incoming`` swaps in buffers that refuse to grow past the limit.

``check()`` runs when the service is built: if Twisted changed that code,
twistd refuses to start and says so, rather than run without the limit.
"""

import twisted


class TwistedIncompatible(SystemExit):
    def __init__(self, problem):
        super().__init__(
            f"twistd live-updates: Twisted {twisted.__version__}: {problem}."
        )


class LimitedBuffer:
    """The shape of Twisted's message buffer (``data``, ``add``, ``done``),
    which calls ``too_big()`` instead of growing past ``limit`` bytes."""

    def __init__(self, empty, limit, too_big):
        self.data = empty
        self.size = 0
        self.limit = limit
        self.too_big = too_big
        self.over = False

    def add(self, new):
        if self.over:
            return
        self.size += len(new.encode("utf-8")) if isinstance(new, str) else len(new)
        if self.size > self.limit:
            self.over = True
            self.data = self.data[:0]
            self.too_big()
            return
        self.data += new

    def done(self):
        result, self.data, self.size = self.data, self.data[:0], 0
        return result


def limit_incoming(wire, limit, too_big):
    """Make the WebSocket ``wire`` (the transport that a protocol's
    ``negotiationStarted`` gets) call ``too_big()`` when a message passes
    ``limit`` bytes, instead of buffering it."""
    wire._textBuffer = LimitedBuffer("", limit, too_big)
    wire._bytesBuffer = LimitedBuffer(b"", limit, too_big)


def check():
    """Feed a wire protocol a message over the limit; fail if it is not
    refused."""
    try:
        from twisted.web import _websocket_impl
        from wsproto import Connection, ConnectionType
        from wsproto.events import TextMessage
    except ImportError as error:
        raise TwistedIncompatible(
            f"no WebSocket support ({error}): pip install 'twisted[websocket]'"
        ) from None
    wire_class = getattr(_websocket_impl, "_WebSocketWireProtocol", None)
    if wire_class is None:
        raise TwistedIncompatible("twisted.web has no _WebSocketWireProtocol")

    class Quiet:
        def textMessageReceived(self, message):
            received.append(message)

        def bytesMessageReceived(self, data):
            received.append(data)

    class Transport:
        def write(self, data):
            pass

    received, refused = [], []
    try:
        wire = wire_class(Connection(ConnectionType.SERVER), None, Quiet())
        wire.transport = Transport()
        limit_incoming(wire, 10, lambda: refused.append(True))
        client = Connection(ConnectionType.CLIENT)
        wire.dataReceived(client.send(TextMessage("small")))
        wire.dataReceived(client.send(TextMessage("x" * 11)))
    except Exception as error:  # Any change in how it is built or fed.
        raise TwistedIncompatible(
            f"its WebSocket wire protocol changed ({error!r})"
        ) from error
    if received[:1] != ["small"] or refused != [True]:
        raise TwistedIncompatible(
            "its WebSocket wire protocol no longer buffers messages where"
            " limit_incoming() bounds them"
        )
