"""Run a thread pool as a twistd service."""

from twisted.application.service import Service


class ThreadPoolService(Service):
    """Start a ``ThreadPool`` with the service, and stop it with the service.

    twistd calls ``startService`` after it has forked, so the pool's threads
    are born in the daemon process.
    """

    def __init__(self, pool):
        self.pool = pool

    def startService(self):
        super().startService()
        self.pool.start()

    def stopService(self):
        super().stopService()
        self.pool.stop()
