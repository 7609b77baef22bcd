"""Hand work from the pool's threads back to the reactor thread, waking the
reactor once for several finished responses.

``reactor.callFromThread`` queues a call and wakes the reactor every time:
one write to its waker pipe, and the thread lets go of the GIL in that
system call, which invites a switch. Under load, several responses finish
while the reactor is busy; here the first of them wakes it, and the others
join the same queue and ride along. The calls run in the reactor thread in
the order they were queued.
"""

import threading
from collections import deque

from twisted.logger import Logger


class HandBack:
    """``hand_back(f, *args)``: call ``f(*args)`` in the reactor thread."""

    log = Logger()

    def __init__(self, reactor):
        self.reactor = reactor
        self.lock = threading.Lock()
        self.calls = deque()
        self.scheduled = False

    def __call__(self, f, *args):
        with self.lock:
            self.calls.append((f, args))
            if self.scheduled:
                return  # A wake-up is on its way, and will run this call.
            self.scheduled = True
        self.reactor.callFromThread(self.run)

    def run(self):
        """In the reactor thread: every call queued so far, in order. As the
        reactor does for its own queue, a call that raises is logged, and
        the others still run."""
        with self.lock:
            calls, self.calls = self.calls, deque()
            self.scheduled = False
        for f, args in calls:
            try:
                f(*args)
            except BaseException:
                self.log.failure("Error in a call handed back to the reactor")
