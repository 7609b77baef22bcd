"""twisted_private.check(): each private Twisted name the package relies
on, broken on purpose, stops twistd with a message that says what and why."""

from importlib import metadata
from pathlib import Path

import pytest
import twisted
from twisted.web import http, wsgi

from twistd_django import twisted_private
from twistd_django.twisted_private import (
    ASSUMPTIONS,
    TwistedIncompatible,
    check,
    supported_twisted,
)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def declared_twisted_range():
    """The specifiers of the Twisted dependency in pyproject.toml."""
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    (spec,) = [d for d in dependencies if d.lower().startswith("twisted")]
    return set(spec[len("twisted") :].replace(" ", "").split(","))


def failure_of_check():
    with pytest.raises(TwistedIncompatible) as raised:
        check()
    return raised.value


# Ways to break each assumption: (monkeypatch) -> the problem it should report.


def delete_wsgi_response(monkeypatch):
    monkeypatch.delattr(wsgi, "_WSGIResponse")
    return "is missing"


def non_forwarding_channel_wrapper(monkeypatch):
    class Wrapper:
        def __init__(self, channel):
            self._channel = channel  # Keeps attributes set on it to itself.

    monkeypatch.setattr(http, "_GenericHTTPChannelProtocol", Wrapper)
    monkeypatch.setattr(twisted_private, "GenericHTTPChannelProtocol", Wrapper)
    return "does not pass its attributes on to the HTTPChannel it wraps"


def channel_kept_under_another_name(monkeypatch):
    class Renamed:
        """Forwards attributes, as Twisted's does, from another attribute."""

        def __init__(self, channel):
            self.__dict__["_backing"] = channel

        def __setattr__(self, name, value):
            setattr(self._backing, name, value)

    monkeypatch.setattr(http, "_GenericHTTPChannelProtocol", Renamed)
    monkeypatch.setattr(twisted_private, "GenericHTTPChannelProtocol", Renamed)
    return "has no channel to reach (AttributeError("


def h2_connection_without_request_done(monkeypatch):
    from twisted.web import _http2

    monkeypatch.delattr(_http2.H2Connection, "_requestDone")
    return "H2Connection has no method _requestDone()"


def channel_without_bad_request_method(monkeypatch):
    monkeypatch.delattr(http.HTTPChannel, "_respondToBadRequestAndDisconnect")
    return "is missing"


BREAKERS = {
    "twisted.web.wsgi._WSGIResponse": delete_wsgi_response,
    "twisted.web.http._GenericHTTPChannelProtocol": non_forwarding_channel_wrapper,
    "twisted.web.http._GenericHTTPChannelProtocol._channel": (
        channel_kept_under_another_name
    ),
    "twisted.web._http2 H2Stream._conn, H2Connection._requestDone": (
        h2_connection_without_request_done
    ),
    "twisted.web.http.HTTPChannel._respondToBadRequestAndDisconnect": (
        channel_without_bad_request_method
    ),
}


def test_check_passes_on_the_installed_twisted():
    assert check() is None


def test_every_assumption_has_a_way_to_break_it_here():
    assert [name for name, _ in ASSUMPTIONS] == list(BREAKERS)


@pytest.mark.parametrize("name", list(BREAKERS))
def test_a_broken_assumption_stops_twistd_with_a_message(monkeypatch, name):
    problem = BREAKERS[name](monkeypatch)
    error = failure_of_check()
    message = str(error)
    assert isinstance(error, SystemExit)
    assert error.code == message  # twistd prints it, and exits with status 1.
    assert message.startswith(
        f"twistd django: Twisted {twisted.__version__} does not have what"
        f" twistd-django relies on: {name} {problem}"
    )
    assert message.endswith(f" twistd-django supports {supported_twisted()}.")


def test_the_message_names_the_declared_twisted_range(monkeypatch):
    delete_wsgi_response(monkeypatch)
    message = str(failure_of_check())
    declared = declared_twisted_range()
    supported = message.rpartition(" supports Twisted ")[2].rstrip(".")
    assert set(supported.split(",")) == declared


def test_supported_twisted_reads_the_installed_metadata():
    assert supported_twisted().startswith("Twisted ")
    spec = supported_twisted().removeprefix("Twisted ")
    assert set(spec.split(",")) == declared_twisted_range()


def test_supported_twisted_without_installed_metadata(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "requires", not_installed)
    assert supported_twisted() == "the Twisted range in its pyproject.toml"


def test_supported_twisted_ignores_an_extra_that_names_twisted(monkeypatch):
    requires = ["django>=5.2", "twisted[tls]; extra == 'test'"]
    monkeypatch.setattr(metadata, "requires", lambda name: requires)
    assert supported_twisted() == "the Twisted range in its metadata"


def test_a_wsgi_response_that_takes_other_arguments_is_refused(monkeypatch):
    class Changed(wsgi._WSGIResponse):
        def __init__(self, reactor, pool, app, request, extra=None):
            pass

    monkeypatch.setattr(wsgi, "_WSGIResponse", Changed)
    monkeypatch.setattr(twisted_private, "WSGIResponse", Changed)
    message = str(failure_of_check())
    assert (
        "twisted.web.wsgi._WSGIResponse takes ('self', 'reactor', 'pool', 'app',"
        " 'request', 'extra'), not ('self', 'reactor', 'threadpool',"
        " 'application', 'request')"
    ) in message


@pytest.mark.parametrize("method", ["startResponse", "write", "run", "start"])
def test_a_wsgi_response_without_a_method_is_refused(monkeypatch, method):
    Changed = type("Changed", (wsgi._WSGIResponse,), {method: None})
    monkeypatch.setattr(wsgi, "_WSGIResponse", Changed)
    monkeypatch.setattr(twisted_private, "WSGIResponse", Changed)
    message = str(failure_of_check())
    assert f"twisted.web.wsgi._WSGIResponse has no method {method}()" in message


def test_a_wsgi_response_replaced_after_import_is_refused(monkeypatch):
    """The package subclassed the class it imported: another one in its place
    is not what it was built on."""
    monkeypatch.setattr(wsgi, "_WSGIResponse", type("Other", (), {}))
    assert "twisted.web.wsgi._WSGIResponse is missing" in str(failure_of_check())


def test_a_channel_wrapper_that_cannot_wrap_is_refused(monkeypatch):
    class Broken:
        def __init__(self, channel):
            raise TypeError("no")

    monkeypatch.setattr(http, "_GenericHTTPChannelProtocol", Broken)
    monkeypatch.setattr(twisted_private, "GenericHTTPChannelProtocol", Broken)
    assert (
        "twisted.web.http._GenericHTTPChannelProtocol cannot wrap an HTTPChannel"
        " (TypeError('no'))"
    ) in str(failure_of_check())


def test_a_parser_that_answers_400_another_way_is_refused(monkeypatch):
    """A Twisted whose parser writes its 400 without the method that
    BadRequestHook wraps: the refusal would go unlogged."""

    def lineReceived(self, line):
        self.transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        self.transport.loseConnection()

    monkeypatch.setattr(http.HTTPChannel, "lineReceived", lineReceived)
    assert (
        "twisted.web.http.HTTPChannel._respondToBadRequestAndDisconnect is not"
        " how HTTPChannel answers a malformed request line with 400"
    ) in str(failure_of_check())


def test_the_package_subclasses_the_names_it_checks():
    from twistd_django.limits import LimitedChannel, limited_channel
    from twistd_django.writeback import BufferedWSGIResponse

    assert issubclass(BufferedWSGIResponse, wsgi._WSGIResponse)
    assert isinstance(limited_channel(None), http._GenericHTTPChannelProtocol)
    assert issubclass(LimitedChannel, twisted_private.BadRequestHook)
