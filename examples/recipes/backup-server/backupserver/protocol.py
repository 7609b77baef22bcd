"""The agents' line protocol, and the hub that knows who is connected.

One command a line, in UTF-8, ended by ``\\n``; the server answers each with
one line, ``OK ...`` or ``ERROR ...``, in order::

    HELLO <host>                      -> OK hello <host>
    REPORT <status> <size> <label>    -> OK <snapshot id>

The server may send ``PING <token>`` at any time; the agent answers
``PONG <token>``. A Django view uses that to check that an agent is alive.
"""

import itertools

from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.protocols.basic import LineOnlyReceiver

from backupserver import store


class NotConnected(LookupError):
    """No agent of that host is connected."""


class AgentGone(ConnectionError):
    """The agent disconnected before it answered."""


class AgentHub:
    """The state of the Twisted side: the connected agents, by host name.

    Everything here runs in the reactor thread. A Django view reaches it only
    through ``backupserver.bridge``.
    """

    log = Logger()

    def __init__(self, orm, reactor):
        self.orm = orm
        self.reactor = reactor
        self.agents = {}

    def connected(self):
        return sorted(self.agents)

    def ping(self, host):
        """A Deferred that fires with the round trip to ``host``'s agent, in s."""
        agent = self.agents.get(host)
        if agent is None:
            return fail(NotConnected(host))
        return agent.ping()

    def report(self, host, label, size_bytes, status):
        """Save the snapshot in the ORM pool: a Deferred of its id."""
        d = self.orm.run(store.record_snapshot, host, label, size_bytes, status)

        def saved(result):
            snapshot_id, thread = result
            self.log.info(
                "Stored snapshot {id} of {host}: {label} ({status}),"
                " in thread {thread}",
                id=snapshot_id,
                host=host,
                label=label,
                status=status,
                thread=thread,
            )
            return snapshot_id

        return d.addCallback(saved)


class AgentProtocol(LineOnlyReceiver):
    delimiter = b"\n"
    MAX_LENGTH = 4096
    log = Logger()

    def connectionMade(self):
        self.hub = self.factory.hub
        self.host = None
        self.pings = {}
        self.tokens = itertools.count(1)
        # Commands are answered in order, one after the other.
        self.queue = succeed(None)

    def lineReceived(self, line):
        command, _, rest = line.rstrip(b"\r").decode("utf-8", "replace").partition(" ")
        if command == "PONG":
            self.pong(rest.strip())
            return
        self.queue.addCallback(lambda _: self.answer(command, rest))

    def answer(self, command, rest):
        handler = getattr(self, f"do_{command}", None)
        if handler is None:
            return self.reply(f"ERROR unknown command {command[:20]!r}")
        d = maybeDeferred(handler, rest)
        d.addCallbacks(
            lambda result: f"OK {result}", self.failed, errbackArgs=(command,)
        )
        return d.addCallback(self.reply)

    def failed(self, failure, command):
        if failure.check(ValueError):
            return f"ERROR {failure.getErrorMessage()}"
        self.log.failure("{command} failed", failure, command=command)
        return f"ERROR {command} failed: {failure.getErrorMessage()}"

    def reply(self, text):
        if self.transport is not None and self.transport.connected:
            self.sendLine(text.encode("utf-8"))

    def do_HELLO(self, rest):
        host = rest.strip()
        if not host or " " in host or len(host) > 255:
            raise ValueError("HELLO needs a host name: HELLO <host>")
        if self.host is not None:
            raise ValueError(f"already said hello as {self.host}")
        self.host = host
        self.hub.agents[host] = self  # A reconnected agent replaces the old one.
        return f"hello {host}"

    def do_REPORT(self, rest):
        if self.host is None:
            raise ValueError("say HELLO <host> first")
        status, size, label = (rest.split(" ", 2) + ["", "", ""])[:3]
        if status not in store.statuses():
            raise ValueError(f"status must be one of {sorted(store.statuses())}")
        if not size.isdigit() or int(size) >= 2**63:
            raise ValueError(f"size must be a whole number of bytes, not {size!r}")
        if not label.strip() or len(label) > 255:
            raise ValueError("REPORT needs a label of 1 to 255 characters")
        return self.hub.report(self.host, label.strip(), int(size), status)

    def ping(self):
        token = str(next(self.tokens))
        d = Deferred(canceller=lambda d: self.pings.pop(token, None))
        self.pings[token] = (d, self.hub.reactor.seconds())
        self.sendLine(f"PING {token}".encode())
        return d

    def pong(self, token):
        waiting = self.pings.pop(token, None)
        if waiting is not None:
            d, sent = waiting
            d.callback(round(self.hub.reactor.seconds() - sent, 6))

    def connectionLost(self, reason):
        if self.host is not None and self.hub.agents.get(self.host) is self:
            del self.hub.agents[self.host]
        pings, self.pings = self.pings, {}
        for d, _ in pings.values():
            d.errback(AgentGone(f"the agent of {self.host} disconnected"))
        self.factory.connections.discard(self)


class AgentFactory(Factory):
    protocol = AgentProtocol

    def __init__(self, hub):
        self.hub = hub
        self.connections = set()

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        self.connections.add(protocol)
        return protocol

    def disconnect_all(self):
        for protocol in list(self.connections):
            protocol.transport.loseConnection()
