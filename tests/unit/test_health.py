"""Live and Ready, with real ThreadPools: one never started (its work never
runs), one started; and a Clock for the readiness deadline."""

import json

from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web.resource import getChildForRequest
from twisted.web.server import NOT_DONE_YET
from twisted.web.test._util import _render
from twisted.web.test.requesthelper import DummyRequest

from twistd_django.health import Live, Ready, health_resource, pool_stats


def answer(request):
    return json.loads(b"".join(request.written))


def render_ready(pool, clock, timeout=2):
    request = DummyRequest([b""])
    result = Ready(pool, timeout, clock).render(request)
    assert result is NOT_DONE_YET
    return request


def test_live_answers_200_json_without_caching():
    request = DummyRequest([b""])
    _render(Live(), request)
    assert request.responseCode == 200
    assert answer(request) == {"live": True}
    assert request.written[-1].endswith(b"\n")
    assert request.responseHeaders.getRawHeaders(b"content-type") == [
        b"application/json"
    ]
    assert request.responseHeaders.getRawHeaders(b"cache-control") == [b"no-store"]


def test_pool_stats_of_a_new_pool(wsgi_pools):
    assert pool_stats(wsgi_pools(2)) == {
        "workers": 0,
        "busy": 0,
        "idle": 0,
        "queued": 0,
    }


def test_pool_stats_count_work_waiting_in_a_pool_not_started(wsgi_pools):
    pool = wsgi_pools()
    pool.callInThread(lambda: None)
    pool.callInThread(lambda: None)
    assert pool_stats(pool) == {"workers": 0, "busy": 0, "idle": 0, "queued": 2}


def test_ready_answers_503_at_the_timeout_when_the_pool_does_not_run(wsgi_pools, clock):
    request = render_ready(wsgi_pools(), clock, timeout=2)
    clock.advance(1.5)
    assert request.written == []
    assert not request.finished
    clock.advance(0.5)
    assert request.responseCode == 503
    assert answer(request) == {
        "ready": False,
        "workers": 0,
        "busy": 0,
        "idle": 0,
        "queued": 0,  # Counted before the no-op was queued.
    }
    assert request.finished == 1
    assert request.responseHeaders.getRawHeaders(b"cache-control") == [b"no-store"]


def test_ready_queues_one_no_op_in_the_pool(wsgi_pools, clock):
    pool = wsgi_pools()
    render_ready(pool, clock)
    assert pool_stats(pool)["queued"] == 1


def test_ready_writes_nothing_to_a_client_that_left(wsgi_pools, clock):
    request = render_ready(wsgi_pools(), clock, timeout=2)
    request.processingFailed(Failure(ConnectionLost()))
    clock.advance(2)
    assert request.written == []
    assert not request.finished


def test_ready_answers_200_when_the_pool_runs_the_no_op(wsgi_pools, threaded_clock):
    pool = wsgi_pools(1, start=True)
    request = render_ready(pool, threaded_clock, timeout=2)
    threaded_clock.run_from_thread()  # The pool thread's callFromThread.
    assert request.responseCode == 200
    body = answer(request)
    assert body["ready"] is True
    assert set(body) == {"ready", "workers", "busy", "idle", "queued"}
    assert body["workers"] == 1
    assert request.finished == 1
    assert threaded_clock.getDelayedCalls() == []  # The deadline is cancelled.


def test_ready_answers_once_when_the_no_op_comes_after_the_timeout(
    wsgi_pools, threaded_clock
):
    pool = wsgi_pools(1, start=True)
    request = render_ready(pool, threaded_clock, timeout=2)
    threaded_clock.advance(2)
    assert request.responseCode == 503
    threaded_clock.run_from_thread()  # The late answer changes nothing.
    assert request.responseCode == 503
    assert request.finished == 1
    assert len(request.written) == 1


def test_the_health_resource_has_live_and_ready(wsgi_pools, clock):
    health = health_resource(wsgi_pools(), 2, clock)
    for name, kind in [(b"live", Live), (b"ready", Ready)]:
        request = DummyRequest([name])
        assert isinstance(getChildForRequest(health, request), kind)
    ready = health.children[b"ready"]
    assert (ready.timeout, ready.reactor) == (2, clock)


def test_a_twisted_thread_pool_reports_no_queue_count(pools):
    """Twisted's ThreadPool keeps that count in a private queue only."""
    assert pool_stats(pools(2, 4))["queued"] is None
