"""ListeningService on Twisted's MemoryReactor and RaisingMemoryReactor: the
port is bound in privilegedStartService, and a failure names the address."""

import errno

import pytest
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactor, RaisingMemoryReactor

from twistd_django.listen import ListenError, ListeningService


def test_the_port_is_bound_in_privileged_start_service():
    reactor, factory = MemoryReactor(), Factory()
    service = ListeningService(reactor, "tcp:8080:interface=127.0.0.1", factory)
    service.privilegedStartService()
    assert [(port, f, iface) for port, f, _, iface in reactor.tcpServers] == [
        (8080, factory, "127.0.0.1")
    ]
    service.startService()
    assert len(reactor.tcpServers) == 1  # Not bound a second time.
    assert service.running


def test_start_service_alone_binds_the_port():
    reactor = MemoryReactor()
    ListeningService(reactor, "tcp:9000", Factory()).startService()
    assert [server[0] for server in reactor.tcpServers] == [9000]


def test_stop_service_stops_listening():
    reactor = MemoryReactor()
    service = ListeningService(reactor, "tcp:8080", Factory())
    service.privilegedStartService()
    service.startService()
    fired = []
    service.stopService().addBoth(fired.append)
    assert fired == [None]
    assert not service.running


def raising(interface, port, socket_error):
    return RaisingMemoryReactor(
        listenException=CannotListenError(interface, port, socket_error)
    )


def test_a_port_in_use_is_a_short_error_that_names_the_address():
    reactor = raising(
        "127.0.0.1", 8080, OSError(errno.EADDRINUSE, "Address already in use")
    )
    service = ListeningService(reactor, "tcp:8080:interface=127.0.0.1", Factory())
    with pytest.raises(ListenError) as raised:
        service.privilegedStartService()
    assert str(raised.value) == "Address already in use: 127.0.0.1:8080"
    assert len(str(raised.value)) < 100  # twistd's status pipe passes on 100.
    assert isinstance(raised.value.__cause__, CannotListenError)


def test_a_failure_on_every_interface_is_shown_as_a_star():
    reactor = raising("", 80, OSError(errno.EACCES, "Permission denied"))
    service = ListeningService(reactor, "tcp:80", Factory())
    with pytest.raises(ListenError, match=r"^Permission denied: \*:80$"):
        service.privilegedStartService()


def test_a_socket_error_without_strerror_is_shown_as_it_is():
    reactor = raising("::1", 8443, "no IPv6 here")
    service = ListeningService(reactor, "tcp6:8443:interface=\\:\\:1", Factory())
    with pytest.raises(ListenError, match=r"^no IPv6 here: ::1:8443$"):
        service.privilegedStartService()
