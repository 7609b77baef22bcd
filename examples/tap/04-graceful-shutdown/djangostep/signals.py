"""Stop signals that only queue the stop, so that it never waits for a log.

The reactor handles SIGTERM and SIGINT with its own methods, which log
"Received SIGTERM, shutting down." inside the signal handler. Python runs a
handler in the reactor thread, between two bytecodes of whatever that thread
was doing. If it was writing a log line, such as a request's access-log
line, the handler's own line waits for the log file's lock, which its own
thread holds, and the daemon hangs with its port open.
"""

import inspect
import signal

from twisted.application.service import Service


class QueuedStopSignals(Service):
    """Replace the reactor's SIGTERM and SIGINT handlers with one that
    queues them for the reactor's next turn. The reactor installs its
    handlers as it starts, after twistd has started the services: so the
    handlers are replaced once it runs."""

    queued = False  # A call is waiting for the reactor's turn.

    def __init__(self, reactor):
        self.reactor = reactor
        self.handlers = {}

    def startService(self):
        super().startService()
        self.reactor.callWhenRunning(self.replace_handlers)

    def replace_handlers(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            handler = signal.getsignal(signum)
            if inspect.ismethod(handler) and handler.__self__ is self.reactor:
                self.handlers[signum] = handler
                signal.signal(signum, self.queue)

    def queue(self, signum, frame):
        # A list append and a byte to the reactor's waker pipe: no lock. One
        # call at a time: Python runs a handler inside another, and a storm
        # of signals must not nest them without end.
        if not self.queued:
            self.queued = True
            self.reactor.callFromThread(self.run, signum)

    def run(self, signum):
        self.queued = False
        self.handlers[signum](signum, None)
