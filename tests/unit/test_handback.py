"""HandBack: calls from worker threads run in the reactor thread, in order,
and the reactor is woken once for all the calls queued before it runs."""

import threading

from twisted.logger import LogLevel, capturedLogs

from twistd_django.handback import HandBack


class WakeUps:
    """Stands in for IReactorThreads.callFromThread: it records each wake-up,
    and ``turn()`` runs them, as one reactor iteration would."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queued = []

    def callFromThread(self, f, *args):
        with self.lock:
            self.queued.append((f, args))

    def turn(self):
        with self.lock:
            queued, self.queued = self.queued, []
        for f, args in queued:
            f(*args)


def test_calls_queued_before_the_reactor_runs_share_one_wake_up():
    reactor, ran = WakeUps(), []
    hand_back = HandBack(reactor)
    for number in range(5):
        hand_back(ran.append, number)
    assert len(reactor.queued) == 1
    reactor.turn()
    assert ran == [0, 1, 2, 3, 4]


def test_a_call_after_the_run_wakes_the_reactor_again():
    reactor, ran = WakeUps(), []
    hand_back = HandBack(reactor)
    hand_back(ran.append, 1)
    reactor.turn()
    hand_back(ran.append, 2)
    assert len(reactor.queued) == 1
    reactor.turn()
    assert ran == [1, 2]


def test_a_call_queued_while_the_batch_runs_is_not_lost():
    reactor, ran = WakeUps(), []
    hand_back = HandBack(reactor)

    def first():
        ran.append("first")
        hand_back(ran.append, "queued during the run")

    hand_back(first)
    reactor.turn()
    reactor.turn()
    assert ran == ["first", "queued during the run"]
    assert reactor.queued == []


def test_a_call_that_raises_is_logged_and_the_rest_still_run():
    reactor, ran = WakeUps(), []
    hand_back = HandBack(reactor)
    hand_back(lambda: 1 / 0)
    hand_back(ran.append, "after")
    with capturedLogs() as events:
        reactor.turn()
    assert ran == ["after"]
    (failure,) = [e for e in events if e["log_level"] == LogLevel.critical]
    assert failure["log_failure"].check(ZeroDivisionError)


def test_every_call_from_many_threads_runs_exactly_once():
    reactor, ran = WakeUps(), []
    hand_back = HandBack(reactor)
    one_reactor_thread = threading.Lock()

    def worker(base):
        for n in range(500):
            hand_back(ran.append, base + n)
            if n % 50 == 0:
                with one_reactor_thread:
                    reactor.turn()

    threads = [threading.Thread(target=worker, args=(t * 1000,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    reactor.turn()
    assert sorted(ran) == sorted(t * 1000 + n for t in range(4) for n in range(500))
