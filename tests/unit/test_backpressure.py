"""BoundedQueue: 503 with Retry-After when the in-flight requests are at the
limit, else the request goes on to the resource behind it."""

from twisted.web.resource import Resource
from twisted.web.test.requesthelper import DummyRequest

from twistd_django.backpressure import BoundedQueue
from twistd_django.inflight import InFlight


class Inner(Resource):
    isLeaf = True

    def __init__(self):
        super().__init__()
        self.seen = []

    def render(self, request):
        self.seen.append(request)
        request.setHeader(b"content-type", b"text/plain")
        return b"from the inner resource"


def in_flight_with(count):
    in_flight = InFlight()
    for _ in range(count):
        in_flight.track(DummyRequest([b""]))
    return in_flight


def render(resource):
    request = DummyRequest([b""])
    request.render(resource)
    return request


def test_under_the_limit_the_request_goes_to_the_inner_resource():
    inner = Inner()
    request = render(BoundedQueue(inner, in_flight_with(2), limit=3))
    assert inner.seen == [request]
    assert request.written == [b"from the inner resource"]
    assert request.responseCode is None  # 200, as the inner resource left it.
    assert request.responseHeaders.getRawHeaders(b"retry-after") is None


def test_at_the_limit_the_answer_is_503_with_retry_after():
    inner = Inner()
    request = render(BoundedQueue(inner, in_flight_with(3), limit=3))
    assert inner.seen == []
    assert request.responseCode == 503
    assert request.responseHeaders.getRawHeaders(b"retry-after") == [b"1"]
    assert request.responseHeaders.getRawHeaders(b"content-type") == [
        b"text/plain; charset=utf-8"
    ]
    assert request.written == [b"Busy: every thread and place in the queue is taken.\n"]
    assert request.finished


def test_over_the_limit_the_answer_is_503_too():
    request = render(BoundedQueue(Inner(), in_flight_with(5), limit=3))
    assert request.responseCode == 503


def test_a_finished_request_frees_its_place():
    in_flight = InFlight()
    running = DummyRequest([b""])
    in_flight.track(running)
    inner = Inner()
    bounded = BoundedQueue(inner, in_flight, limit=1)
    assert render(bounded).responseCode == 503
    running.finish()
    assert render(bounded).responseCode is None
    assert len(inner.seen) == 1


def test_the_bounded_queue_is_a_leaf():
    assert BoundedQueue(Inner(), InFlight(), 1).isLeaf
