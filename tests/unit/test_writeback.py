"""BufferedWSGIResponse through TrackingWSGIResource, with the synchronous
pool and reactor doubles of Twisted's own test_wsgi and a DummyRequest: how
the body is written back, the errors, close(), and the environ."""

import pytest
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.test_wsgi import SynchronousReactorThreads, SynchronousThreadPool

from twistd_django.inflight import InFlight, TrackingWSGIResource
from twistd_django.writeback import BufferedWSGIResponse

from .conftest import dummy_request, messages


class Boom(Exception):
    pass


class Body:
    """An iterable with close(), as a WSGI framework returns: yields
    ``chunks``, raises ``Boom`` after them if ``fail``; ``streaming`` as a
    Django response has it (None: not a Django response)."""

    def __init__(self, chunks, fail=False, streaming=None, close_fails=False):
        self.chunks, self.fail, self.close_fails = chunks, fail, close_fails
        if streaming is not None:
            self.streaming = streaming
        self.closed = 0
        self.produced = []

    def __iter__(self):
        for chunk in self.chunks:
            self.produced.append(chunk)
            yield chunk
        if self.fail:
            raise Boom("mid-body")

    def close(self):
        self.closed += 1
        if self.close_fails:
            raise Boom("in close")


def app_returning(body, status="200 OK", headers=(("Content-Type", "text/plain"),)):
    def app(environ, start_response):
        start_response(status, list(headers))
        return body

    return app


def serve(app, request=None, in_flight=None):
    """Render ``request`` through the package's WSGI resource; with the
    synchronous doubles, the whole response is made before this returns."""
    request = request or dummy_request(b"/report")
    resource = TrackingWSGIResource(
        SynchronousReactorThreads(),
        SynchronousThreadPool(),
        app,
        in_flight if in_flight is not None else InFlight(),
    )
    assert resource.render(request) is NOT_DONE_YET
    return request


def test_a_list_body_goes_out_in_one_write():
    request = serve(app_returning([b"one ", b"two ", b"three"]))
    assert request.written == [b"one two three"]
    assert request.responseCode == 200
    assert request.finished == 1


def test_a_not_streaming_django_like_body_goes_out_in_one_write():
    body = Body([b"a", b"b", b"c"], streaming=False)
    request = serve(app_returning(body))
    assert request.written == [b"abc"]
    assert body.closed == 1


def test_a_generator_body_is_written_chunk_by_chunk():
    def chunks():
        yield b"a"
        yield b""  # An empty chunk is not written.
        yield b"b"
        yield b"c"

    request = serve(app_returning(chunks()))
    assert request.written == [b"a", b"b", b"c"]
    assert request.finished == 1


def test_a_streaming_body_is_written_chunk_by_chunk():
    body = Body([b"x", b"y"], streaming=True)
    request = serve(app_returning(body))
    assert request.written == [b"x", b"y"]
    assert body.closed == 1


def test_status_and_headers_are_sent_without_server_and_date():
    headers = [
        ("Content-Type", "text/csv"),
        ("X-Thing", "caf\xe9"),
        ("Server", "evil/1.0"),
        ("Date", "yesterday"),
    ]
    request = serve(app_returning([b"x"], status="404 Not Found", headers=headers))
    assert request.responseCode == 404
    assert request.responseMessage == b"Not Found"
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"text/csv"]
    assert request.responseHeaders.getRawHeaders(b"x-thing") == [b"caf\xe9"]
    assert request.responseHeaders.getRawHeaders(b"server") is None
    assert request.responseHeaders.getRawHeaders(b"date") is None


def test_an_empty_body_still_sends_the_status_and_finishes():
    request = serve(app_returning([], status="204 No Content"))
    assert request.responseCode == 204
    assert request.written == []
    assert request.finished == 1


def test_the_write_callable_writes_before_the_returned_body():
    def app(environ, start_response):
        write = start_response("200 OK", [])
        write(b"early ")
        return [b"late"]

    request = serve(app)
    assert request.written == [b"early ", b"late"]
    assert request.responseCode == 200


def test_an_exception_before_start_response_is_a_500(logged):
    def app(environ, start_response):
        raise Boom("before start_response")

    request = serve(app)
    assert request.responseCode == 500
    assert request.written == []
    assert request.finished == 1
    assert "WSGI application error" in messages(logged)


def test_an_exception_after_start_response_before_the_body_is_a_500():
    def app(environ, start_response):
        start_response("200 OK", [])
        raise Boom("after start_response")

    request = serve(app)
    assert request.responseCode == 500
    assert request.finished == 1


def test_no_start_response_at_all_is_a_500():
    request = serve(lambda environ, start_response: [b"body"])
    assert request.responseCode == 500
    assert request.written == []
    assert request.finished == 1


@pytest.mark.parametrize("status", ["200", "OK 200", "200 Tr\xe8s \u20ac"])
def test_a_status_that_cannot_be_sent_is_a_500(status):
    request = serve(app_returning([b"x"], status=status))
    assert request.responseCode == 500
    assert request.written == []
    assert request.finished == 1


def test_a_header_that_cannot_be_sent_is_a_500():
    request = serve(app_returning([b"x"], headers=[("X-Price", "5 \u20ac")]))
    assert request.responseCode == 500
    assert request.finished == 1


def test_close_is_called_when_iteration_raises_mid_body():
    body = Body([b"first"], fail=True, streaming=True)
    request = serve(app_returning(body))
    assert body.closed == 1
    assert request.written == [b"first"]
    assert request.lost == [True]  # The headers went out: close the connection.
    assert request.responseCode == 200
    assert not request.finished


def test_close_is_called_when_a_buffered_body_raises():
    body = Body([b"first"], fail=True, streaming=False)
    request = serve(app_returning(body))
    assert body.closed == 1
    assert request.responseCode == 500
    assert request.written == []
    assert request.finished == 1


def test_close_is_called_once_after_a_whole_body():
    body = Body([b"a", b"b"])
    serve(app_returning(body))
    assert body.closed == 1


def test_a_close_that_raises_after_a_buffered_body_is_a_500():
    body = Body([b"a"], streaming=False, close_fails=True)
    request = serve(app_returning(body))
    assert body.closed == 1
    assert request.responseCode == 500
    assert request.written == []


def test_a_close_that_raises_after_an_error_logs_both(logged):
    body = Body([b"a"], fail=True, streaming=True, close_fails=True)
    request = serve(app_returning(body))
    assert body.closed == 1
    assert request.lost == [True]
    text = messages(logged)
    assert "WSGI application error in close()" in text
    assert "WSGI application error" in text
    failures = [e["log_failure"].value for e in logged if "log_failure" in e]
    assert [str(f) for f in failures if isinstance(f, Boom)] == [
        "in close",
        "mid-body",
    ]


def test_a_client_that_leaves_stops_the_iteration_and_closes_the_body():
    request = dummy_request(b"/stream")
    body = Body([b"1", b"2", b"3", b"4"], streaming=True)

    def app(environ, start_response):
        start_response("200 OK", [])
        return body

    original_write = request.write

    def write_then_leave(data):
        original_write(data)
        if data == b"2":
            request.processingFailed(Failure(ConnectionLost("client left")))

    request.write = write_then_leave
    serve(app, request)
    assert request.written == [b"1", b"2"]
    assert body.produced == [b"1", b"2"]  # Not iterated after the client left.
    assert body.closed == 1
    assert not request.finished


def test_the_environ_has_no_http_content_type_or_length():
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [])
        return [environ["wsgi.input"].read()]

    request = dummy_request(
        b"/upload?x=1",
        method=b"POST",
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", b"7"),
            (b"x-request-id", b"abc"),
        ],
        body=b'{"a":1}',
    )
    request = serve(app, request)
    assert seen["CONTENT_TYPE"] == "application/json"
    assert seen["CONTENT_LENGTH"] == "7"
    assert "HTTP_CONTENT_TYPE" not in seen
    assert "HTTP_CONTENT_LENGTH" not in seen
    assert seen["HTTP_X_REQUEST_ID"] == "abc"
    assert seen["REQUEST_METHOD"] == "POST"
    assert seen["PATH_INFO"] == "/upload"
    assert seen["QUERY_STRING"] == "x=1"
    assert seen["REMOTE_ADDR"] == "203.0.113.7"
    assert request.written == [b'{"a":1}']


def test_the_request_is_in_flight_while_the_application_runs():
    in_flight = InFlight()
    counted = []

    def app(environ, start_response):
        counted.append(len(in_flight))
        start_response("200 OK", [])
        return [b"x"]

    request = serve(app, in_flight=in_flight)
    assert counted == [1]
    assert request.finished == 1
    assert len(in_flight) == 0


def test_the_resource_answers_with_the_package_response(monkeypatch):
    made = []
    original_init = BufferedWSGIResponse.__init__

    def recording_init(self, *args):
        made.append(self)
        original_init(self, *args)

    monkeypatch.setattr(BufferedWSGIResponse, "__init__", recording_init)
    serve(app_returning([b"x"]))
    assert len(made) == 1
