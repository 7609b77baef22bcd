"""Stop signals that only queue the stop: it then runs in the reactor's turn,
once, and outside any log write.

Twisted's reactor installs its methods ``sigTerm`` and ``sigInt`` as the
handlers of SIGTERM and SIGINT (``twisted.internet._signals``). Each logs
"Received SIGTERM, shutting down." and queues ``reactor.stop()``, from inside
the signal handler. Two faults follow:

- Python runs a signal handler in the main thread, between two bytecodes of
  whatever that thread was doing. If it was writing a log line, the
  handler's own line waits for a lock that its thread already holds: a plain
  ``Lock`` never lets its own thread in, and the pure-Python ``RLock`` that
  Twisted's ``LogFile`` takes (``twisted.python.threadable``) records its
  owner a few bytecodes after acquiring. The daemon hangs with its port
  open, and the "Received SIGTERM" line is never written.
- Each further signal queues another ``reactor.stop()``, which raises
  ``ReactorNotRunning``: a critical traceback in the log for every extra
  Ctrl-C.

``StopSignals`` replaces those two handlers with one that only queues the
reactor's own handler with ``callFromThread`` (a list append and a byte to
the waker pipe: no lock, no log). In the reactor's turn the first signal runs
Twisted's handler. One that comes once the daemon is shutting down changes
nothing, and says so at most once a second, with the number of requests
still in flight.
"""

import inspect
import signal

from twisted.application.service import Service
from twisted.logger import Logger

STOP_SIGNALS = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT"}


class StopSignals(Service):
    """Queue the reactor's SIGTERM and SIGINT handlers instead of running
    them inside the signal handler. twistd starts the services before it
    runs the reactor, and the reactor installs its handlers as it starts
    (during "startup"), so they are replaced once it runs
    (``callWhenRunning``). Handlers that are not the reactor's (a
    debugger's, a recipe's) are left alone. ``in_flight``, if given: what to
    count in the "already shutting down" line."""

    log = Logger()
    repeat_interval = 1.0  # Seconds between two "already stopping" lines.

    def __init__(self, reactor, in_flight=None):
        self.reactor = reactor
        self.in_flight = in_flight
        self.stopping = False
        self.queued = False
        self.last_repeat_logged = None
        self.replaced = {}  # signum: the reactor's handler.

    def startService(self):
        super().startService()
        self.reactor.addSystemEventTrigger("before", "shutdown", self._shutting_down)
        self.reactor.callWhenRunning(self._replace_handlers)

    def _replace_handlers(self):
        for signum in STOP_SIGNALS:
            handler = signal.getsignal(signum)
            if not (inspect.ismethod(handler) and handler.__self__ is self.reactor):
                continue
            try:
                signal.signal(signum, self._queue)
            except ValueError:  # Not the main thread: signals are not ours.
                return
            self.replaced[signum] = handler

    def _queue(self, signum, frame):
        """The signal handler: queue one call, and return at once. A signal
        that comes before the reactor has made that call asks for the same
        thing, and returns at once too: Python runs a handler inside another
        one, so a storm of signals would otherwise nest handlers until the
        recursion limit, raising inside whatever code they interrupted."""
        if self.queued:
            return
        self.queued = True
        self.reactor.callFromThread(self._handle, signum)

    def _handle(self, signum):
        """In the reactor thread: the first stop signal stops the reactor."""
        self.queued = False
        if not self.stopping:
            self.stopping = True
            self.replaced[signum](signum, None)
            return
        now = self.reactor.seconds()
        last = self.last_repeat_logged
        if last is None or now - last >= self.repeat_interval:
            self.last_repeat_logged = now
            if self.in_flight is None:
                self.log.info(
                    "Received {signal}: already shutting down.",
                    signal=STOP_SIGNALS[signum],
                )
                return
            self.log.info(
                "Received {signal}: already shutting down,"
                " {count} request(s) in flight.",
                signal=STOP_SIGNALS[signum],
                count=len(self.in_flight),
            )

    def _shutting_down(self):
        self.stopping = True
