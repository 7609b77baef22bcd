"""A TCP port that several processes listen on at once (``SO_REUSEPORT``).

    --listen=reuseport:8080:interface=127.0.0.1

Each of N ordinary ``twistd django`` daemons binds the same address with
``SO_REUSEPORT`` (Linux 3.9 and later), and the kernel gives each its own
accept queue and spreads new connections over them by a hash of the
connection's addresses. No parent process passes a socket around; one
daemon can stop, or restart, while the others go on serving. Only processes
of the same user can share the port, and a plain ``tcp:`` listener on it
makes the bind fail ("Address already in use"), as it should.
"""

import socket

from twisted.internet import defer
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IStreamServerEndpoint
from zope.interface import implementer

DEFAULT_BACKLOG = 50  # Twisted's own, for tcp:.


def supported():
    return hasattr(socket, "SO_REUSEPORT")


@implementer(IStreamServerEndpoint)
class ReusePortEndpoint:
    """Bind and listen with ``SO_REUSEPORT``, then hand the listening socket
    to the reactor (``IReactorSocket.adoptStreamPort``), which serves it as
    it serves a ``tcp:`` port."""

    def __init__(self, reactor, port, interface="", backlog=DEFAULT_BACKLOG):
        self.reactor = reactor
        self.port = port
        self.interface = interface
        self.backlog = backlog

    def listen(self, factory):
        family = socket.AF_INET6 if ":" in self.interface else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((self.interface, self.port))
            sock.listen(self.backlog)
            sock.setblocking(False)
            # The reactor takes a duplicate of the descriptor.
            port = self.reactor.adoptStreamPort(sock.fileno(), family, factory)
        except OSError as error:
            return defer.fail(CannotListenError(self.interface, self.port, error))
        finally:
            sock.close()
        return defer.succeed(port)


def parse(reactor, port, interface="", backlog=DEFAULT_BACKLOG):
    """``reuseport:PORT[:interface=ADDRESS][:backlog=N]``, as ``tcp:``."""
    if not supported():
        raise ValueError("reuseport: this system has no SO_REUSEPORT")
    try:
        port, backlog = int(port), int(backlog)
    except ValueError:
        raise ValueError("reuseport: the port and the backlog are numbers") from None
    if not 0 <= port < 65536:
        raise ValueError(f"reuseport: no port {port}")
    return ReusePortEndpoint(reactor, port, interface.strip("[]"), backlog)
