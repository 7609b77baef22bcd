"""Run a thread pool as a twistd service, and stop it without blocking."""

import threading

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool


class DaemonThreadPool(ThreadPool):
    """A ``ThreadPool`` whose threads cannot keep an exiting process alive."""

    def threadFactory(self, *args, **kwargs):
        return threading.Thread(*args, daemon=True, **kwargs)


class ThreadPoolService(Service):
    """Start a ``ThreadPool`` with the service, and stop it with the service.

    twistd calls ``startService`` after it has forked, so the pool's threads
    are born in the daemon process. ``stopService`` first waits, up to
    ``timeout`` seconds, for the requests in flight to finish. Then it stops
    the pool in another thread: joining the workers in the reactor thread
    would deadlock with a worker that waits for the reactor.
    """

    log = Logger()

    def __init__(self, pool, in_flight, timeout, reactor=None):
        if reactor is None:
            from twisted.internet import reactor
        self.pool = pool
        self.in_flight = in_flight
        self.timeout = timeout
        self.reactor = reactor

    def startService(self):
        super().startService()
        self.pool.start()

    def stopService(self):
        super().stopService()
        drained = self.in_flight.drained(self.timeout, self.reactor)
        return drained.addCallback(self._stopPool)

    def _stopPool(self, drained):
        if not drained:
            self.log.warn(
                "{count} request(s) still running after {timeout} s:"
                " stopping without them.",
                count=len(self.in_flight),
                timeout=self.timeout,
            )
        stopped = Deferred()

        def stop():
            self.pool.stop()
            self.reactor.callFromThread(stopped.callback, None)

        threading.Thread(target=stop, name="stop-wsgi-pool", daemon=True).start()
        # A worker stuck in a view never joins: then do not wait for it.
        return stopped if drained else None
