"""half_close: over TCP a FIN, over TLS a close_notify, never a FIN under
TLS. Driven through Twisted's own TLS protocol between two in-memory
transports (twisted.test.iosim)."""

from pathlib import Path

import pytest
import twisted.test
from twisted.internet.interfaces import IOpenSSLContextFactory
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.test import iosim
from zope.interface import implementer

from twistd_django.closing import half_close

pytest.importorskip("OpenSSL", reason="needs twisted[tls]")

from OpenSSL import SSL  # noqa: E402
from twisted.internet import ssl  # noqa: E402
from twisted.protocols.tls import TLSMemoryBIOFactory  # noqa: E402

SERVER_PEM = str(Path(twisted.test.__file__).with_name("server.pem"))


@implementer(IOpenSSLContextFactory)
class ServerContext:
    """Twisted's test certificate and key, loaded from its file."""

    def getContext(self):
        context = SSL.Context(SSL.TLS_METHOD)
        context.use_certificate_file(SERVER_PEM)
        context.use_privatekey_file(SERVER_PEM)
        return context


class HalfClosingTransport(StringTransport):
    write_closed = False

    def loseWriteConnection(self):
        self.write_closed = True


class FakeTCP(iosim.FakeTransport):
    """iosim's transport, which records a half-close (its own ignores it)."""

    write_closed = False

    def loseWriteConnection(self):
        self.write_closed = True


class Collecting(Protocol):
    def __init__(self):
        self.received = b""
        self.lost = None

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason):
        self.lost = reason


def tls_pair():
    """A server and a client TLS protocol, each over a FakeTCP, after their
    handshake; the protocols they wrap; and the pump that moves the bytes."""
    clock = Clock()  # TLS sends small writes a turn later, on this clock.
    server_factory = TLSMemoryBIOFactory(
        ServerContext(), False, Factory.forProtocol(Collecting), clock
    )
    client_factory = TLSMemoryBIOFactory(
        ssl.CertificateOptions(), True, ClientFactory.forProtocol(Collecting), clock
    )
    server = server_factory.buildProtocol(None)
    client = client_factory.buildProtocol(None)
    server_tcp = FakeTCP(server, isServer=True)
    client_tcp = FakeTCP(client, isServer=False)
    pump = iosim.connect(server, server_tcp, client, client_tcp, clock=clock)
    return server, server_tcp, server.wrappedProtocol, client.wrappedProtocol, pump


def test_over_tcp_it_half_closes():
    transport = HalfClosingTransport()
    half_close(transport)
    assert transport.write_closed
    assert not transport.disconnecting


def test_without_a_half_close_it_closes():
    transport = StringTransport()
    half_close(transport)
    assert transport.disconnecting


def test_over_tls_the_answer_arrives_then_a_tls_close_not_a_fin_under_tls():
    server, server_tcp, _, client, pump = tls_pair()
    server.write(b"HTTP/1.1 413 Content Too Large\r\n\r\n")
    half_close(server)
    assert not server_tcp.write_closed  # TCP under TLS stays whole ...
    assert not server_tcp.disconnecting  # ... and reading, until close_notify.
    pump.flush()
    assert client.received == b"HTTP/1.1 413 Content Too Large\r\n\r\n"
    assert client.lost is not None  # The client saw close_notify.


def test_over_tls_what_the_client_still_sends_is_read():
    server, _, wrapped_server, client, pump = tls_pair()
    half_close(server)
    client.transport.write(b"the rest of a refused body")
    pump.flush()
    assert wrapped_server.received == b"the rest of a refused body"
