"""StopSignals (twistd_django.signals): a stop signal only queues the
reactor's handler; the first one stops, later ones are noted once a second.

Real signals, raised in this process, reach handlers installed on a
``MemoryReactorClock`` that also records ``callFromThread`` and has the
reactor's two handler methods. Each test puts the process's handlers back.
"""

import signal

import pytest
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, globalLogPublisher

from twistd_django.signals import StopSignals


class SignalReactor(MemoryReactorClock):
    """A memory reactor whose ``callFromThread`` queues calls for ``turn()``,
    and whose ``sigTerm``/``sigInt`` record what they were called with."""

    def __init__(self):
        super().__init__()
        self.thread_calls = []
        self.handled = []

    def callFromThread(self, f, *args, **kwargs):
        self.thread_calls.append((f, args, kwargs))

    def turn(self):
        calls, self.thread_calls = self.thread_calls, []
        for f, args, kwargs in calls:
            f(*args, **kwargs)

    def sigTerm(self, number, frame=None):
        self.handled.append(("sigTerm", number, frame))

    def sigInt(self, number, frame=None):
        self.handled.append(("sigInt", number, frame))


@pytest.fixture
def reactor():
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    reactor = SignalReactor()
    signal.signal(signal.SIGTERM, reactor.sigTerm)  # As the reactor does.
    signal.signal(signal.SIGINT, reactor.sigInt)
    try:
        yield reactor
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


@pytest.fixture
def events():
    seen = []
    globalLogPublisher.addObserver(seen.append)
    yield seen
    globalLogPublisher.removeObserver(seen.append)


def started(reactor, in_flight=None):
    service = StopSignals(reactor, in_flight)
    service.startService()
    reactor.run()  # The memory reactor runs the callWhenRunning hooks.
    return service


def repeats(events):
    return [
        e
        for e in events
        if e.get("log_namespace", "").endswith("StopSignals")
        and e["log_level"] == LogLevel.info
    ]


def test_handlers_are_replaced_only_once_the_reactor_runs(reactor):
    service = StopSignals(reactor)
    service.startService()
    assert signal.getsignal(signal.SIGTERM) == reactor.sigTerm
    reactor.run()
    assert signal.getsignal(signal.SIGTERM) == service._queue
    assert signal.getsignal(signal.SIGINT) == service._queue


def test_the_signal_only_queues_the_reactors_handler(reactor):
    started(reactor)
    signal.raise_signal(signal.SIGTERM)
    assert reactor.handled == []  # Nothing ran inside the handler...
    assert len(reactor.thread_calls) == 1  # ...but a call was queued.
    reactor.turn()
    assert reactor.handled == [("sigTerm", signal.SIGTERM, None)]


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT])
def test_a_later_stop_signal_is_noted_not_handled_again(reactor, events, second):
    started(reactor, in_flight=["a request"])
    signal.raise_signal(signal.SIGINT)
    reactor.turn()
    signal.raise_signal(second)
    reactor.turn()
    assert reactor.handled == [("sigInt", signal.SIGINT, None)]
    [line] = repeats(events)
    assert line["count"] == 1
    assert (
        line["signal"] == {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT"}[second]
    )


def test_without_requests_to_count_the_line_has_no_count(reactor, events):
    started(reactor)  # As the multicore parent: its workers count their own.
    signal.raise_signal(signal.SIGTERM)
    reactor.turn()
    signal.raise_signal(signal.SIGTERM)
    reactor.turn()
    [line] = repeats(events)
    assert "count" not in line
    assert line["log_format"] == "Received {signal}: already shutting down."


def test_signals_before_the_reactors_turn_queue_one_call(reactor):
    started(reactor)
    for _ in range(3):
        signal.raise_signal(signal.SIGTERM)
    assert len(reactor.thread_calls) == 1
    reactor.turn()
    signal.raise_signal(signal.SIGTERM)  # The call was made: queue again.
    assert len(reactor.thread_calls) == 1
    assert reactor.handled == [("sigTerm", signal.SIGTERM, None)]


def test_a_storm_of_nested_handlers_stays_shallow(reactor):
    """A signal that lands while the handler queues runs a handler inside
    it; that one must return without queueing, or a storm recurses."""
    service = started(reactor)
    depths = []
    queue = reactor.callFromThread

    def call_from_thread_interrupted(f, *args):
        depths.append(len(depths))
        if len(depths) < 50:
            service._queue(signal.SIGTERM, None)  # As a nested signal would.
        queue(f, *args)

    reactor.callFromThread = call_from_thread_interrupted
    signal.raise_signal(signal.SIGTERM)
    assert depths == [0]
    assert len(reactor.thread_calls) == 1


def test_repeats_are_noted_at_most_once_a_second(reactor, events):
    started(reactor)
    for _ in range(5):
        signal.raise_signal(signal.SIGTERM)
        reactor.turn()
    assert len(repeats(events)) == 1
    reactor.advance(0.9)
    signal.raise_signal(signal.SIGTERM)
    reactor.turn()
    assert len(repeats(events)) == 1
    reactor.advance(0.1)
    signal.raise_signal(signal.SIGTERM)
    reactor.turn()
    assert len(repeats(events)) == 2
    assert len(reactor.handled) == 1


def test_a_signal_once_shutdown_has_begun_does_not_stop_again(reactor, events):
    started(reactor)
    [(shutting_down, args, kwargs)] = reactor.triggers["before"]["shutdown"]
    shutting_down(*args, **kwargs)  # reactor.stop() was called some other way.
    signal.raise_signal(signal.SIGTERM)
    reactor.turn()
    assert reactor.handled == []
    assert len(repeats(events)) == 1


def test_handlers_that_are_not_the_reactors_are_left_alone(reactor):
    def own(signum, frame):
        pass

    signal.signal(signal.SIGINT, own)  # A debugger's, say.
    service = started(reactor)
    assert signal.getsignal(signal.SIGINT) is own
    assert signal.getsignal(signal.SIGTERM) == service._queue
