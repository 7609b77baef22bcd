"""Run ORM work for the Twisted side: in a pool of its own, never in the reactor.

Django's ORM blocks, and holds one database connection per thread. The
reactor thread must never wait for the database, so the protocol hands each
piece of ORM work to a dedicated ThreadPool with ``deferToThreadPool``, and
gets a Deferred back. Django closes a request's connection when the request
ends; nothing does that for a thread that is not serving a request, so each
job is wrapped in ``close_old_connections()``, before (drop a connection that
broke, or outlived CONN_MAX_AGE, while the thread was idle) and after (give
it back, as a request would).
"""

import threading

from django.db import close_old_connections
from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadable import isInIOThread

from twistd_django.threadpool import DaemonThreadPool


class InReactorThread(RuntimeError):
    """ORM work was about to run in the reactor thread."""


def with_connections(f, *args, **kwargs):
    """Call ``f`` between two ``close_old_connections()``; refuse the reactor."""
    if isInIOThread():
        raise InReactorThread(
            f"{f.__name__} would block the reactor: run it with OrmPool.run()"
        )
    close_old_connections()
    try:
        return f(*args, **kwargs)
    finally:
        close_old_connections()


class OrmPool(Service):
    """A ThreadPool for ORM work, as a service: started after twistd forks,
    stopped once the jobs in flight are done."""

    def __init__(self, reactor, threads, name="orm"):
        self.reactor = reactor
        self.pool = DaemonThreadPool(threads, threads, name=name)
        self._in_flight = set()

    def run(self, f, *args, **kwargs):
        """Run ``f(*args, **kwargs)`` in the pool; a Deferred of its result."""
        d = deferToThreadPool(
            self.reactor, self.pool, with_connections, f, *args, **kwargs
        )
        self._in_flight.add(d)

        def done(result):
            self._in_flight.discard(d)
            return result

        return d.addBoth(done)

    def startService(self):
        super().startService()
        self.pool.start()

    def stopService(self):
        super().stopService()
        waiting = DeferredList(
            [_observe(d) for d in self._in_flight], consumeErrors=True
        )
        return waiting.addCallback(lambda _: self._stop_pool())

    def _stop_pool(self):
        stopped = Deferred()

        def stop():
            self.pool.stop()
            self.reactor.callFromThread(stopped.callback, None)

        # Joining the workers in the reactor thread could deadlock.
        threading.Thread(target=stop, name="stop-orm-pool", daemon=True).start()
        return stopped


def _observe(d):
    """A Deferred that fires when ``d`` does, without taking its result."""
    observer = Deferred()

    def fire(result):
        observer.callback(None)
        return result

    d.addBoth(fire)
    return observer
