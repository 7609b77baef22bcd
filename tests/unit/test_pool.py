"""WSGIPool: the package's WSGI pool, with real threads; it does what the
package and twisted.web.wsgi ask of Twisted's ThreadPool."""

import threading

import pytest
from twisted.logger import LogLevel, capturedLogs

from twistd_django.pool import WSGIPool

WAIT = 10  # Seconds: a bound on every wait, never a sleep.


@pytest.fixture
def pool():
    pool = WSGIPool(3, name="wsgi")
    yield pool
    if pool.threads:
        pool.stop()


def test_calls_queued_before_start_wait_for_it(pool):
    ran = threading.Event()
    pool.callInThread(ran.set)
    assert pool.queued() == 1
    assert not ran.wait(0.05)  # No thread yet: a pool started before fork is this.
    pool.start()
    assert ran.wait(WAIT)
    assert pool.queued() == 0


def test_threads_are_named_as_twisted_names_them_and_are_daemons(pool):
    pool.start()
    assert [t.name for t in pool.threads] == [f"PoolThread-wsgi-{n}" for n in range(3)]
    assert all(t.daemon for t in pool.threads)
    assert pool.workers == 3


def test_the_callback_gets_the_result_or_the_failure(pool):
    pool.start()
    results, done = [], threading.Semaphore(0)

    def on_result(ok, result):
        results.append((ok, result))
        done.release()

    pool.callInThreadWithCallback(on_result, lambda a, b=0: a + b, 1, b=2)
    assert done.acquire(timeout=WAIT)
    pool.callInThreadWithCallback(on_result, lambda: 1 / 0)
    assert done.acquire(timeout=WAIT)
    assert results[0] == (True, 3)
    ok, failure = results[1]
    assert not ok and failure.check(ZeroDivisionError)


def test_an_error_without_a_callback_is_logged_and_the_thread_goes_on():
    pool = WSGIPool(1)  # One thread: the second call runs after the log.
    pool.start()
    ran = threading.Event()
    with capturedLogs() as events:
        pool.callInThread(lambda: 1 / 0)
        pool.callInThread(ran.set)
        assert ran.wait(WAIT)
    pool.stop()
    (failure,) = [e for e in events if e["log_level"] == LogLevel.critical]
    assert failure["log_failure"].check(ZeroDivisionError)


def test_working_and_waiters_count_busy_and_idle_threads(pool):
    pool.start()
    inside, release = threading.Semaphore(0), threading.Event()

    def hold():
        inside.release()
        release.wait(WAIT)

    pool.callInThread(hold)
    pool.callInThread(hold)
    assert inside.acquire(timeout=WAIT) and inside.acquire(timeout=WAIT)
    assert len(pool.working) == 2 and len(pool.waiters) == 1
    release.set()


def test_stop_runs_the_calls_queued_so_far_then_ends_every_thread(pool):
    ran = []
    for n in range(20):
        pool.callInThread(ran.append, n)
    pool.start()
    threads = list(pool.threads)
    pool.stop()
    assert sorted(ran) == list(range(20))
    assert not any(t.is_alive() for t in threads)
    assert pool.workers == 0 and pool.joined and not pool.started


def test_many_calls_from_many_threads_each_run_once(pool):
    pool.start()
    ran, lock, all_done = [], threading.Lock(), threading.Event()
    total = 4 * 500

    def record(n):
        with lock:
            ran.append(n)
            if len(ran) == total:
                all_done.set()

    def submit(base):
        for n in range(500):
            pool.callInThread(record, base + n)

    submitters = [threading.Thread(target=submit, args=(t * 1000,)) for t in range(4)]
    for thread in submitters:
        thread.start()
    for thread in submitters:
        thread.join(WAIT)
    assert all_done.wait(WAIT)
    assert sorted(ran) == sorted(t * 1000 + n for t in range(4) for n in range(500))
