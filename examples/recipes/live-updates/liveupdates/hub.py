"""The open WebSockets, and what is pushed to them.

Everything here runs in the reactor thread. The ORM work (a session's user,
whether it still holds) goes to the ORM pool, and its result comes back to
the reactor, which pushes. A page never makes the daemon buffer without
bound: each connection is the push producer of its TCP transport, so it
knows when the client stops reading, and keeps what waits for it in a
backlog of its own, up to a limit past which the page is dropped.
"""

import json
import socket
from collections import Counter, deque

from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IPushProducer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from wsproto.utilities import LocalProtocolError
from zope.interface import implementer

from twistd_django.closing import half_close

from . import sessions, twisted_private

GOING_AWAY = 1001
POLICY_VIOLATION = 1008  # The session ended: the page stops reconnecting.
MESSAGE_TOO_BIG = 1009
# How long a closed WebSocket waits for the client's own close frame.
LINGER = 2.0
# The kernel's send buffer for a WebSocket: Linux grows it to megabytes for a
# client that does not read, out of sight of the backlog limit.
SEND_BUFFER = 64 * 1024


@implementer(IPushProducer)
class LiveConnection:
    """One page's WebSocket (a ``WebSocketProtocol``), and the producer that
    its TCP transport pauses when the client reads too slowly."""

    log = Logger()

    def __init__(self, hub, viewer):
        self.hub = hub
        self.viewer = viewer
        self.ws = None
        self.open = False
        self.closing = False
        self.paused = False
        self.backlog = deque()
        self.backlog_bytes = 0
        self.last_pong = hub.reactor.seconds()

    # The WebSocketProtocol side.

    def negotiationStarted(self, transport):
        self.ws = transport
        twisted_private.limit_incoming(transport, self.hub.max_message, self.too_big)
        tcp = transport.transport
        transport.detachProducer()  # The HTTP channel's: this one takes over.
        transport.attachProducer(self)
        try:  # A TCP socket; over TLS the handle is not one.
            tcp.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        except (AttributeError, OSError):
            pass

    def negotiationFinished(self):
        self.open = True
        self.hub.opened(self)

    def textMessageReceived(self, message):
        """A page has nothing to say: its messages, within the limit, are
        ignored."""

    def bytesMessageReceived(self, data):
        pass

    def pongReceived(self, payload):
        self.last_pong = self.hub.reactor.seconds()

    def connectionLost(self, reason):
        if isinstance(self.ws.transport, Lingering):
            self.ws.transport.cancel()
        self.open = False
        self.backlog.clear()
        self.backlog_bytes = 0
        self.hub.lost(self)

    # Pushing.

    def send(self, text, size):
        """Send ``text`` (``size`` bytes in UTF-8) now, or keep it for when the
        client reads again; drop the client once too much waits."""
        if not self.open or self.closing:
            return
        if self.paused or self.backlog:
            self.backlog.append((text, size))
            self.backlog_bytes += size
            self.hub.backlog_peak = max(self.hub.backlog_peak, self.backlog_bytes)
            if self.backlog_bytes > self.hub.max_backlog:
                self.hub.drop_slow(self)
            return
        self._write(self.ws.sendTextMessage, text)

    def ping(self):
        if self.open and not self.closing and not self.paused:
            self._write(self.ws.ping, b"")

    def _write(self, method, argument):
        try:
            method(argument)
        except LocalProtocolError:  # The client's close frame came first.
            self.closing = True

    def pauseProducing(self):
        self.paused = True

    def resumeProducing(self):
        self.paused = False
        while self.backlog and not self.paused and self.open and not self.closing:
            text, size = self.backlog.popleft()
            self.backlog_bytes -= size
            self._write(self.ws.sendTextMessage, text)

    def stopProducing(self):
        self.paused = True

    # Ending.

    def close(self, code, reason):
        """Send a close frame, and close the TCP connection once the client
        has answered with its own, or after ``LINGER`` seconds."""
        if self.open and not self.closing:
            self.closing = True
            self.backlog.clear()
            self.backlog_bytes = 0
            self.ws.transport = Lingering(self.ws.transport, self.hub.reactor)
            self.ws.loseConnection(code, reason)

    def abort(self):
        if self.ws is not None:
            self.ws.transport.abortConnection()

    def too_big(self):
        self.hub.stats["too_big"] += 1
        self.log.warn(
            "Closed the WebSocket of {user}: a message over {limit} bytes.",
            user=self.viewer.username,
            limit=self.hub.max_message,
        )
        self.close(MESSAGE_TOO_BIG, "message too big")


class Lingering:
    """The transport, as the WebSocket sees it once it sends its close
    frame: its first ``loseConnection()`` only half-closes, and what the
    client still sends is read and dropped until the client's close frame
    comes. Closing at once could answer unread data with a reset, which
    can destroy the close frame (and its code) before the client reads it.
    """

    def __init__(self, tcp, reactor):
        self.tcp = tcp
        self.half_closed = False
        self.timer = reactor.callLater(LINGER, tcp.abortConnection)

    def write(self, data):
        self.tcp.write(data)

    def loseConnection(self):
        if self.half_closed:  # The client's close frame came.
            self.tcp.loseConnection()
        else:
            self.half_closed = True
            half_close(self.tcp)

    def cancel(self):
        if self.timer.active():
            self.timer.cancel()

    def __getattr__(self, name):
        return getattr(self.tcp, name)


class LiveHub(Service):
    """The open WebSockets, their limits, and two loops: one re-checks their
    sessions, one pings them. Stopping it closes them all with 1001."""

    log = Logger()

    def __init__(
        self,
        reactor,
        orm,
        *,
        max_connections,
        max_per_user,
        max_message,
        max_backlog,
        recheck,
        ping,
        close_grace,
    ):
        self.reactor = reactor
        self.orm = orm
        self.max_connections = max_connections
        self.max_per_user = max_per_user
        self.max_message = max_message
        self.max_backlog = max_backlog
        self.recheck_interval = recheck
        self.ping_interval = ping
        self.close_grace = close_grace
        self.connections = set()
        self.per_user = Counter()
        self.pending = 0  # Handshakes whose session is being looked up.
        self.accepting = True
        self.stats = Counter(
            dict.fromkeys(
                ["opened", "pushed", "too_big", "dropped_slow", "ended", "dead"], 0
            )
        )
        self.backlog_peak = 0
        self._all_gone = None
        self._loops = []

    # Admission, called by the handshake resource.

    def refusal(self, viewer=None):
        """Why a new WebSocket is refused now (status, reason), or None."""
        if not self.accepting:
            return 503, "the server is shutting down"
        if viewer is None:
            if len(self.connections) + self.pending >= self.max_connections:
                return 503, f"the server has {self.max_connections} WebSockets"
        elif self.per_user[viewer.user_id] >= self.max_per_user:
            return 429, f"{self.max_per_user} WebSockets open for this user"
        return None

    def opened(self, connection):
        self.connections.add(connection)
        self.per_user[connection.viewer.user_id] += 1
        self.stats["opened"] += 1
        self.log.info(
            "WebSocket opened for {user} ({count} open).",
            user=connection.viewer.username,
            count=len(self.connections),
        )

    def lost(self, connection):
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        user = connection.viewer.user_id
        self.per_user[user] -= 1
        if self.per_user[user] <= 0:
            del self.per_user[user]
        if not self.connections and self._all_gone is not None:
            all_gone, self._all_gone = self._all_gone, None
            all_gone.callback(None)

    # Pushing.

    def broadcast(self, message):
        """Push ``message`` (a dict, as JSON) to every page whose user may see
        snapshots. Returns how many pages it went to."""
        text = json.dumps(message, separators=(",", ":"))
        size = len(text.encode("utf-8"))
        count = 0
        for connection in list(self.connections):
            if connection.viewer.allowed and not connection.closing:
                connection.send(text, size)
                count += 1
        self.stats["pushed"] += count
        return count

    def drop_slow(self, connection):
        self.stats["dropped_slow"] += 1
        self.log.warn(
            "Dropped the WebSocket of {user}: it reads too slowly"
            " ({backlog} bytes waiting, over the limit of {limit}).",
            user=connection.viewer.username,
            backlog=connection.backlog_bytes,
            limit=self.max_backlog,
        )
        connection.closing = True
        connection.backlog.clear()
        connection.backlog_bytes = 0
        connection.abort()

    def end_session(self, session_key):
        """Close the WebSockets of a session that logged out."""
        for connection in list(self.connections):
            if connection.viewer.session_key == session_key:
                connection.close(POLICY_VIOLATION, "the session ended")
                self.stats["ended"] += 1

    # The loops.

    def startService(self):
        super().startService()
        for interval, function in (
            (self.recheck_interval, self.recheck),
            (self.ping_interval, self.heartbeat),
        ):
            loop = LoopingCall(self._guarded, function)
            loop.clock = self.reactor
            loop.start(interval, now=False)
            self._loops.append(loop)

    def _guarded(self, function):
        d = succeed(None).addCallback(lambda _: function())
        return d.addErrback(lambda f: self.log.failure("{f} failed", f, f=function))

    def recheck(self):
        """Look the sessions up again, in the ORM pool; close the WebSockets
        of those that expired, logged out, or lost the permission. The loop
        waits for the lookup before it schedules the next one."""
        keys = {c.viewer.session_key for c in self.connections}
        if not keys:
            return None
        d = self.orm.run(sessions.viewers, keys)

        def checked(found):
            for connection in list(self.connections):
                now = found.get(connection.viewer.session_key)
                if now is None or not now.allowed:
                    connection.close(POLICY_VIOLATION, "the session ended")
                    self.stats["ended"] += 1

        return d.addCallback(checked)

    def heartbeat(self):
        now = self.reactor.seconds()
        for connection in list(self.connections):
            if now - connection.last_pong > 2 * self.ping_interval + 1:
                self.stats["dead"] += 1
                connection.abort()
            else:
                connection.ping()

    # Stopping.

    def stop_accepting(self):
        self.accepting = False

    def stopService(self):
        """Close every WebSocket with 1001; abort those still there after
        ``close_grace`` seconds (a client that does not read never gets its
        close frame). Fires once they are all gone."""
        super().stopService()
        self.accepting = False
        for loop in self._loops:
            if loop.running:
                loop.stop()
        self._loops = []
        if not self.connections:
            return succeed(None)
        self.log.info(
            "Closing {count} WebSocket(s) with 1001.", count=len(self.connections)
        )
        self._all_gone = all_gone = Deferred()
        for connection in list(self.connections):
            connection.close(GOING_AWAY, "the server is shutting down")

        def abort_the_rest():
            for connection in list(self.connections):
                connection.abort()

        late = self.reactor.callLater(self.close_grace, abort_the_rest)
        return all_gone.addBoth(lambda result: late.active() and late.cancel())

    def snapshot_of_state(self):
        """For /_twistd/live-updates: counts, no names."""
        return {
            "connections": len(self.connections),
            "pending": self.pending,
            "users": len(self.per_user),
            "paused": sum(1 for c in self.connections if c.paused),
            "backlog_bytes": sum(c.backlog_bytes for c in self.connections),
            "backlog_peak": self.backlog_peak,
            "max_backlog": self.max_backlog,
            "accepting": self.accepting,
            **self.stats,
        }
