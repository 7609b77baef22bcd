"""Twisted's own WSGI tests, run against the package's resource and response.

``twisted.web.test.test_wsgi`` builds every resource it tests through its
module-global name ``WSGIResource``. Each class below is one of its
``TestCase`` classes whose ``setUp`` first points that name at the package's
``TrackingWSGIResource`` (which answers with ``BufferedWSGIResponse``), and
forbids Twisted's own ``WSGIResource.render``: a case that rendered through
Twisted's response instead of ours fails, it does not pass unnoticed.

Twisted's module is imported as a module, never its classes by name: pytest
collects every ``unittest.TestCase`` class bound in a test module, and would
run Twisted's originals, against Twisted, beside these.

Where the package differs from Twisted on purpose, the case is named in
``EXPECTED_DIFFERENCES``, with the reason; it is not run as Twisted wrote it,
and a test of the package's own behaviour stands beside it
(docs/explanation/twisted-wsgi-differences.rst).
"""

import inspect
import unittest

import pytest
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web import wsgi
from twisted.web.server import Request, Site
from twisted.web.test import test_wsgi as twisted_tests
from twisted.web.test.test_web import DummyChannel
from twisted.web.wsgi import WSGIResource

from twistd_django.inflight import InFlight, TrackingWSGIResource
from twistd_django.writeback import BufferedWSGIResponse

# "Class.test_method" of Twisted's test_wsgi: why the package differs. Empty:
# with Twisted 26.10 every case passes as Twisted wrote it. The package's
# differences are in what Twisted does not test; the tests at the end of this
# module show each one, beside Twisted's behaviour.
EXPECTED_DIFFERENCES = {}


class PackageResource:
    """Mixin, before Twisted's class: every resource that the Twisted case
    builds is the package's, and every response it makes is ours.

    ``self.resources`` and ``self.responses`` keep them, for the guard test.
    """

    def setUp(self):
        self.resources = []
        self.responses = []

        def build(reactor, threadpool, application):
            resource = TrackingWSGIResource(
                reactor, threadpool, application, InFlight()
            )
            self.resources.append(resource)
            return resource

        def forbidden(resource, request):
            raise AssertionError("Twisted's WSGIResource.render ran, not the package's")

        run = BufferedWSGIResponse.run

        def recording_run(response):
            self.responses.append(response)
            return run(response)

        self.patch(twisted_tests, "WSGIResource", build)
        self.patch(wsgi.WSGIResource, "render", forbidden)
        self.patch(BufferedWSGIResponse, "run", recording_run)
        super().setUp()


def package_case(twisted_case):
    """The Twisted ``TestCase`` class ``twisted_case``, against the package."""
    overrides = {"__doc__": f"Twisted's {twisted_case.__name__}, with our resource."}
    for name in EXPECTED_DIFFERENCES:
        cls, _, method = name.partition(".")
        if cls == twisted_case.__name__:
            overrides[method] = unittest.skip(
                f"expected difference: {EXPECTED_DIFFERENCES[name]}"
            )(getattr(twisted_case, method))
    return type(
        f"Package{twisted_case.__name__}", (PackageResource, twisted_case), overrides
    )


def twisted_cases():
    """Twisted's test_wsgi classes that hold tests: TestCases, not mixins."""
    return sorted(
        (
            obj
            for obj in vars(twisted_tests).values()
            if inspect.isclass(obj)
            and issubclass(obj, TestCase)
            and obj.__module__ == twisted_tests.__name__
        ),
        key=lambda cls: cls.__name__,
    )


PackageWSGIResourceTests = package_case(twisted_tests.WSGIResourceTests)
PackageEnvironTests = package_case(twisted_tests.EnvironTests)
PackageInputStreamBytesIOTests = package_case(twisted_tests.InputStreamBytesIOTests)
PackageInputStreamTemporaryFileTests = package_case(
    twisted_tests.InputStreamTemporaryFileTests
)
PackageStartResponseTests = package_case(twisted_tests.StartResponseTests)
PackageApplicationTests = package_case(twisted_tests.ApplicationTests)

PACKAGE_CASES = [
    PackageApplicationTests,
    PackageEnvironTests,
    PackageInputStreamBytesIOTests,
    PackageInputStreamTemporaryFileTests,
    PackageStartResponseTests,
    PackageWSGIResourceTests,
]


def test_every_twisted_wsgi_test_case_runs_against_the_package():
    """A TestCase class that a new Twisted adds to test_wsgi must be added here."""
    assert [case.__bases__[1] for case in PACKAGE_CASES] == twisted_cases()


def test_every_expected_difference_names_a_twisted_test():
    for name in EXPECTED_DIFFERENCES:
        cls, _, method = name.partition(".")
        assert callable(getattr(getattr(twisted_tests, cls), method)), name


# The cases that build a resource but render no request through it.
RENDER_NOTHING = {
    "WSGIResourceTests.test_interfaces",
    "WSGIResourceTests.test_unsupported",
}


def test_the_twisted_cases_exercise_the_package():
    """The guard: every case passes, builds only TrackingWSGIResource, and,
    unless it renders nothing, answers with BufferedWSGIResponse."""
    loader = unittest.TestLoader()
    rendered_nothing = set()
    for case in PACKAGE_CASES:
        twisted_name = case.__bases__[1].__name__
        for method in loader.getTestCaseNames(case):
            name = f"{twisted_name}.{method}"
            if name in EXPECTED_DIFFERENCES:
                continue
            test = case(method)
            result = unittest.TestResult()
            test.run(result)
            assert result.wasSuccessful(), (name, result.errors + result.failures)
            assert test.resources, f"{name} built no resource"
            assert all(type(r) is TrackingWSGIResource for r in test.resources)
            assert all(isinstance(r, BufferedWSGIResponse) for r in test.responses)
            if not test.responses:
                rendered_nothing.add(name)
    assert rendered_nothing == RENDER_NOTHING


@pytest.mark.parametrize(
    ("method", "sabotage"),
    [
        ("test_applicationCloseException", ("_close", lambda self, body, **kw: None)),
        ("test_connectionClosedDuringIteration", ("_gone", lambda self, result: None)),
    ],
)
def test_a_broken_response_fails_the_twisted_cases(monkeypatch, method, sabotage):
    """Twisted's cases, run under pytest, do catch a broken response: the
    Deferred they return is waited for, and its failure reported."""
    monkeypatch.setattr(BufferedWSGIResponse, *sabotage)
    result = unittest.TestResult()
    PackageApplicationTests(method).run(result)
    assert not result.wasSuccessful()


# The package's own behaviour where it differs from Twisted on purpose, each
# beside Twisted's, so that each test shows a difference that is there
# (docs/explanation/twisted-wsgi-differences.rst).


def package(reactor, threadpool, application):
    return TrackingWSGIResource(reactor, threadpool, application, InFlight())


class RecordedRequest(Request):
    """A request that keeps each ``write``, and is kept in ``SERVED``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.writes = []
        SERVED.append(self)

    def write(self, data):
        self.writes.append(data)
        return super().write(data)


SERVED = []


def serve(resource_factory, application, method=b"GET", headers=(), body=b""):
    """One request through ``resource_factory(reactor, pool, application)``,
    in this thread (Twisted's synchronous pool and reactor threads)."""
    resource = resource_factory(
        twisted_tests.SynchronousReactorThreads(),
        twisted_tests.SynchronousThreadPool(),
        application,
    )
    channel = DummyChannel()
    channel.site = Site(resource)
    request = RecordedRequest(channel, False)
    for name, value in headers:
        request.requestHeaders.addRawHeader(name, value)
    request.gotLength(len(body))
    request.content.write(body)
    request.content.seek(0)
    request.requestReceived(method, b"/", b"HTTP/1.1")
    request.sent = channel.transport.written.getvalue()
    request.disconnected = channel.transport.disconnected
    return request


@pytest.fixture
def failures(logged):
    """The failures logged while the test runs (``logged``: conftest.py)."""
    return lambda: [e["log_failure"].value for e in logged if "log_failure" in e]


class Body:
    """An application's iterable: ``chunks``, then ``error`` if not None;
    ``streaming`` as a Django response has it, if not None."""

    def __init__(self, chunks, error=None, streaming=None, close_error=None):
        self.chunks, self.error, self.close_error = chunks, error, close_error
        if streaming is not None:
            self.streaming = streaming
        self.closed_after = None  # What the client had been sent at close().

    def __iter__(self):
        yield from self.chunks
        if self.error is not None:
            raise self.error

    def close(self):
        self.closed_after = SERVED[-1].channel.transport.written.getvalue()
        if self.close_error is not None:
            raise self.close_error


def app_returning(body, status="200 OK", headers=(("Content-Type", "text/plain"),)):
    def application(environ, start_response):
        start_response(status, list(headers))
        return body() if callable(body) else body

    return application


def body_of(request):
    """The response body, from its chunked encoding."""
    head, _, rest = request.sent.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    body = b""
    while rest:
        size, _, rest = rest.partition(b"\r\n")
        size = int(size, 16)
        if not size:
            break
        body, rest = body + rest[:size], rest[size + 2 :]
    return body


@pytest.mark.parametrize(
    "whole",
    [
        [b"one ", b"two ", b"three"],
        (b"one ", b"two ", b"three"),
        Body([b"one ", b"two ", b"three"], streaming=False),  # As HttpResponse.
    ],
    ids=["list", "tuple", "not-streaming"],
)
def test_a_whole_body_is_written_in_one_write(whole):
    ours = serve(package, app_returning(whole))
    assert ours.writes == [b"one two three"]
    assert body_of(ours) == b"one two three"
    assert ours.finished
    theirs = serve(WSGIResource, app_returning(whole))
    assert theirs.writes == [b"one ", b"two ", b"three"]


@pytest.mark.parametrize("streaming", [None, True], ids=["iterator", "streaming"])
def test_a_streaming_body_is_written_chunk_by_chunk_as_twisted_does(streaming):
    for resource in (package, WSGIResource):
        body = Body([b"one ", b"", b"two"], streaming=streaming)
        request = serve(resource, app_returning(body))
        assert request.writes == [b"one ", b"two"]
        assert request.finished


@pytest.mark.parametrize("streaming", [None, False], ids=["streaming", "whole"])
def test_the_iterable_is_closed_when_iterating_it_raises(failures, streaming):
    ours = Body([b"half"], error=RuntimeError("mid-body"), streaming=streaming)
    serve(package, app_returning(ours))
    assert ours.closed_after is not None
    assert [type(f) for f in failures()] == [RuntimeError]
    theirs = Body([b"half"], error=RuntimeError("mid-body"), streaming=streaming)
    serve(WSGIResource, app_returning(theirs))
    assert theirs.closed_after is None  # Twisted never calls close().


def test_the_environ_has_no_http_content_type_or_length():
    seen = []

    def application(environ, start_response):
        seen.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))]

    headers = [
        (b"Content-Type", b"application/x-www-form-urlencoded"),
        (b"Content-Length", b"7"),
    ]
    for resource in (package, WSGIResource):
        serve(resource, application, b"POST", headers, b"a=1&b=2")
    ours, theirs = seen
    for environ in seen:
        assert environ["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
        assert environ["CONTENT_LENGTH"] == "7"
    assert "HTTP_CONTENT_TYPE" not in ours
    assert "HTTP_CONTENT_LENGTH" not in ours
    assert theirs["HTTP_CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert theirs["HTTP_CONTENT_LENGTH"] == "7"


def test_a_whole_body_is_closed_before_it_is_sent():
    ours = Body([b"whole"], streaming=False)
    request = serve(package, app_returning(ours))
    assert ours.closed_after == b""  # Closed, then sent.
    assert body_of(request) == b"whole"
    theirs = Body([b"whole"], streaming=False)
    serve(WSGIResource, app_returning(theirs))
    assert b"whole" in theirs.closed_after  # Sent, then closed.


@pytest.mark.parametrize(
    "body",
    [
        lambda: Body([b"half"], error=RuntimeError("mid-body"), streaming=False),
        lambda: Body([b"half"], close_error=RuntimeError("close"), streaming=False),
    ],
    ids=["iteration-fails", "close-fails"],
)
def test_a_whole_body_that_fails_is_a_500_with_nothing_of_it_sent(failures, body):
    ours = serve(package, app_returning(body))
    assert ours.sent.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b"half" not in ours.sent
    assert ours.finished and not ours.disconnected
    assert [type(f) for f in failures()] == [RuntimeError]
    # Twisted sends the 200 and the body before the error, then closes.
    theirs = serve(WSGIResource, app_returning(body))
    assert theirs.sent.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"half" in theirs.sent
    assert theirs.disconnected


def no_start_response(environ, start_response):
    return [b"body"]


def no_start_response_nor_body(environ, start_response):
    return []


@pytest.mark.parametrize(
    "application",
    [
        no_start_response,
        no_start_response_nor_body,  # Twisted: fails in the reactor, hangs.
        app_returning([b"body"], status="200"),  # No reason phrase.
        app_returning([b"body"], headers=[("Content-Type", "text/plain; \u20ac")]),
        app_returning(lambda: iter([b"body"]), status="200"),  # Streamed.
    ],
    ids=[
        "no-start-response",
        "no-start-response-nor-body",
        "bad-status",
        "not-latin-1",
        "bad-status-streamed",
    ],
)
def test_a_response_that_cannot_be_sent_is_a_500(failures, application):
    ours = serve(package, application)
    assert ours.sent.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert ours.finished
    assert len(failures()) == 1
    # Twisted sends nothing, and closes the connection or, if it failed in
    # its last call to the reactor thread, leaves the request hanging.
    theirs = serve(WSGIResource, application)
    assert theirs.sent == b""
    assert not theirs.finished


def test_an_error_after_the_client_left_is_logged_once(failures):
    def application(environ, start_response):
        SERVED[-1].connectionLost(Failure(ConnectionLost("client left")))
        raise RuntimeError("after the client left")

    serve(package, application)
    assert [type(f) for f in failures()] == [RuntimeError]
    assert str(failures()[0]) == "after the client left"
    # Twisted also tries to finish the lost request, and logs that error too.
    serve(WSGIResource, application)
    assert len(failures()) == 3
