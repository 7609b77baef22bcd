"""InFlight: the requests that run, and waiting for them to finish; and the
ThreadPoolService that waits for them before it stops the pool."""

import threading

from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web.test.requesthelper import DummyRequest

from twistd_django.inflight import InFlight
from twistd_django.threadpool import DaemonThreadPool, ThreadPoolService

from .conftest import messages


def tracked(in_flight, count=1):
    requests = [DummyRequest([b""]) for _ in range(count)]
    for request in requests:
        in_flight.track(request)
    return requests


def results(deferred):
    """What ``deferred`` has fired with so far: [] if it has not fired."""
    fired = []
    deferred.addBoth(fired.append)
    return fired


def test_a_tracked_request_counts_until_it_finishes():
    in_flight = InFlight()
    request, other = tracked(in_flight, 2)
    assert len(in_flight) == 2
    request.finish()
    assert len(in_flight) == 1
    other.finish()
    assert len(in_flight) == 0


def test_a_request_whose_processing_failed_no_longer_counts():
    in_flight = InFlight()
    (request,) = tracked(in_flight)
    request.processingFailed(Failure(ConnectionLost("client left")))
    assert len(in_flight) == 0


def test_drained_fires_at_once_when_nothing_is_in_flight(clock):
    assert results(InFlight().drained(30, clock)) == [True]
    assert clock.getDelayedCalls() == []


def test_drained_fires_true_when_the_last_request_finishes(clock):
    in_flight = InFlight()
    first, last = tracked(in_flight, 2)
    fired = results(in_flight.drained(30, clock))
    first.finish()
    assert fired == []
    clock.advance(29)
    last.finish()
    assert fired == [True]


def test_drained_fires_true_when_the_last_request_fails(clock):
    in_flight = InFlight()
    (request,) = tracked(in_flight)
    fired = results(in_flight.drained(30, clock))
    request.processingFailed(Failure(ConnectionLost("client left")))
    assert fired == [True]


def test_drained_cancels_its_timeout_when_it_fires_true(clock):
    in_flight = InFlight()
    (request,) = tracked(in_flight)
    in_flight.drained(30, clock)
    request.finish()
    assert clock.getDelayedCalls() == []


def test_drained_fires_false_exactly_at_the_timeout(clock):
    in_flight = InFlight()
    tracked(in_flight)
    fired = results(in_flight.drained(30, clock))
    clock.advance(29)
    assert fired == []
    clock.advance(1)
    assert fired == [False]


def test_a_request_finishing_after_the_timeout_does_not_fire_drained_again(clock):
    in_flight = InFlight()
    (request,) = tracked(in_flight)
    fired = results(in_flight.drained(5, clock))
    clock.advance(5)
    request.finish()  # Would raise AlreadyCalledError if it fired twice.
    assert fired == [False]
    assert len(in_flight) == 0


def test_every_waiter_fires_when_the_last_request_finishes(clock):
    in_flight = InFlight()
    (request,) = tracked(in_flight)
    first = results(in_flight.drained(30, clock))
    second = results(in_flight.drained(60, clock))
    request.finish()
    assert (first, second) == ([True], [True])


# ThreadPoolService


def test_the_service_starts_the_pool(pools, threaded_clock):
    pool = pools()
    service = ThreadPoolService(pool, InFlight(), 30, reactor=threaded_clock)
    service.startService()
    assert pool.started
    assert service.running


def test_stopping_with_nothing_in_flight_stops_the_pool_then_fires(
    pools, threaded_clock
):
    pool = pools()
    service = ThreadPoolService(pool, InFlight(), 30, reactor=threaded_clock)
    service.startService()
    fired = results(service.stopService())
    assert not service.running
    assert fired == []  # The pool stops in another thread, which calls back.
    threaded_clock.run_from_thread()
    assert fired == [None]
    assert pool.joined and not pool.started


def test_stopping_waits_for_the_requests_in_flight(pools, threaded_clock):
    pool = pools()
    in_flight = InFlight()
    (request,) = tracked(in_flight)
    service = ThreadPoolService(pool, in_flight, 30, reactor=threaded_clock)
    service.startService()
    fired = results(service.stopService())
    threaded_clock.advance(29)
    assert fired == []
    assert pool.started  # Not stopped while a request may still use it.
    assert threaded_clock.from_threads.empty()
    request.finish()
    threaded_clock.run_from_thread()
    assert fired == [None]
    assert not pool.started


def test_a_drain_timeout_logs_a_warning_and_does_not_wait_for_the_pool(
    pools, threaded_clock, logged
):
    pool = pools()
    in_flight = InFlight()
    tracked(in_flight, 2)
    service = ThreadPoolService(pool, in_flight, 7, reactor=threaded_clock)
    service.startService()
    fired = results(service.stopService())
    threaded_clock.advance(6.5)
    assert fired == []
    threaded_clock.advance(0.5)
    assert fired == [None]  # At once: a stuck worker would never join.
    warnings = [
        e
        for e in logged
        if e.get("log_namespace") == "twistd_django.threadpool.ThreadPoolService"
    ]
    assert messages(warnings) == [
        "2 request(s) still running after 7 s: stopping without them."
    ]
    assert warnings[0]["log_level"].name == "warn"
    threaded_clock.run_from_thread()  # The pool still stops, in its thread.
    assert not pool.started


def test_a_drained_stop_logs_no_warning(pools, threaded_clock, logged):
    service = ThreadPoolService(pools(), InFlight(), 7, reactor=threaded_clock)
    service.startService()
    service.stopService()
    threaded_clock.run_from_thread()
    assert not [e for e in logged if "still running" in e.get("log_format", "")]


def test_the_pool_is_stopped_outside_the_reactor_thread(pools, threaded_clock):
    pool = pools()
    stopped_in = []
    original_stop = pool.stop

    def stop():
        stopped_in.append(threading.current_thread())
        original_stop()

    pool.stop = stop
    service = ThreadPoolService(pool, InFlight(), 30, reactor=threaded_clock)
    service.startService()
    service.stopService()
    threaded_clock.run_from_thread()
    assert stopped_in and stopped_in[0] is not threading.current_thread()
    assert stopped_in[0].name == "stop-wsgi-pool"


def test_daemon_pool_threads_are_daemon_threads():
    pool = DaemonThreadPool(1, 1)
    thread = pool.threadFactory(target=lambda: None, name="t")
    assert thread.daemon
    assert not thread.is_alive()  # Made, not started.
