"""The reuseport: endpoint: parsed by Twisted's own serverFromString through
the package's plugin, bound with SO_REUSEPORT, and given to the reactor as an
adopted port (MemoryReactor records it)."""

import socket

import pytest
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactor

from twistd_django.options import endpoint
from twistd_django.reuseport import ReusePortEndpoint


def test_twisted_finds_the_endpoint_by_its_prefix():
    parsed = serverFromString(
        MemoryReactor(), "reuseport:8080:interface=127.0.0.1:backlog=64"
    )
    assert isinstance(parsed, ReusePortEndpoint)
    assert (parsed.port, parsed.interface, parsed.backlog) == (8080, "127.0.0.1", 64)


@pytest.mark.parametrize(
    "description, problem",
    [
        ("reuseport:http", "the port and the backlog are numbers"),
        ("reuseport:70000", "no port 70000"),
        ("reuseport:8080:backlog=many", "the port and the backlog are numbers"),
    ],
)
def test_a_bad_description_is_a_clear_option_error(description, problem):
    with pytest.raises(ValueError) as raised:
        endpoint(description)
    assert problem in str(raised.value)
    assert str(raised.value).startswith(f"{description!r} is not an endpoint")


def test_listen_hands_a_listening_reuseport_socket_to_the_reactor():
    reactor, factory = MemoryReactor(), Factory()
    listened = ReusePortEndpoint(reactor, 0, "127.0.0.1").listen(factory)
    assert listened.called
    (fileno, family, adopted_factory) = reactor.adoptedPorts[0]
    assert (family, adopted_factory) == (socket.AF_INET, factory)
    assert isinstance(fileno, int)


def test_two_endpoints_share_a_port_and_a_plain_socket_cannot():
    first = socket.socket()
    first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    first.bind(("127.0.0.1", 0))
    first.listen()
    port = first.getsockname()[1]
    try:
        reactor = MemoryReactor()
        shared = ReusePortEndpoint(reactor, port, "127.0.0.1").listen(Factory())
        assert shared.called and reactor.adoptedPorts
        with socket.socket() as plain:
            with pytest.raises(OSError):
                plain.bind(("127.0.0.1", port))
    finally:
        first.close()


def test_a_port_held_without_reuseport_fails_with_cannot_listen():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        failed = ReusePortEndpoint(MemoryReactor(), port, "127.0.0.1").listen(Factory())
        failure = failed.result
        failed.addErrback(lambda _: None)
    error = failure.value
    assert isinstance(error, CannotListenError)
    assert (error.interface, error.port) == ("127.0.0.1", port)
    assert error.socketError.strerror == "Address already in use"
