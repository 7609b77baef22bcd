"""Stop sending and go on reading: how a server ends a connection whose
answer it has written while the client may still be sending.

Closing a socket with unread data in it sends a reset, which can destroy
the answer before the client reads it. So the server half-closes: over TCP
with ``loseWriteConnection()`` (a FIN), over TLS with the TLS transport's
own ``loseConnection()``, which sends close_notify and reads on until the
client's close_notify comes.

Asking a TLS transport for ``loseWriteConnection`` is a trap: Twisted's
``TLSMemoryBIOProtocol`` is a ``ProtocolWrapper``, whose ``__getattr__``
hands over the TCP transport's method beneath it. That half-closes the
socket under TLS, before TLS has flushed the answer's records (its
``BufferingTLSTransport`` sends small writes a reactor turn later), and the
client sees the connection end with no answer.
"""

from twisted.internet.interfaces import ISSLTransport


def half_close(transport):
    """End ``transport``'s sending side, keeping its reading side open."""
    if ISSLTransport.providedBy(transport):
        transport.loseConnection()  # close_notify; TLS reads on.
        return
    lose_write = getattr(transport, "loseWriteConnection", None)
    (lose_write or transport.loseConnection)()
