"""The WSGI pool: a fixed number of daemon threads that take calls from one
queue, lighter than Twisted's ``ThreadPool`` for the one thing a WSGI pool
does.

Twisted's ``ThreadPool`` hands every call to a coordinator
(``twisted._threads.Team``), which picks an idle worker and gives it the
call through that worker's own queue, and hears back from it when it is
done: a few locks and closures a call, and about 14 µs of CPU on the
machine of docs/reference/performance.rst. Here each thread takes the next
call from one ``queue.SimpleQueue`` (a queue written in C, with one lock
for all) and runs it: about half a microsecond. The pool does not grow or
shrink, as the package's never did (minimum and maximum are both
``--threads``).

It offers what ``twisted.web.wsgi.WSGIResource`` and the package use of a
``ThreadPool``: ``start``, ``stop``, ``callInThread``,
``callInThreadWithCallback``, and for the health check ``workers``,
``working``, ``waiters`` and ``queued()``. Its threads are named as
``ThreadPool`` names them, ``PoolThread-<name>-<n>``.
"""

import queue
import threading

from twisted.logger import Logger
from twisted.python.failure import Failure

STOP = object()


class WSGIPool:
    log = Logger()

    def __init__(self, size, name="wsgi"):
        self.min = self.max = size
        self.name = name
        self.threads = []
        self.started = False
        self.joined = False
        self._calls = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._working = set()

    @property
    def workers(self):
        """How many threads the pool started and that still run."""
        return sum(thread.is_alive() for thread in self.threads)

    @property
    def working(self):
        with self._lock:
            return list(self._working)

    @property
    def waiters(self):
        with self._lock:
            busy = set(self._working)
        return [t for t in self.threads if t.is_alive() and t not in busy]

    def queued(self):
        """How many calls wait for a free thread."""
        return self._calls.qsize()

    def start(self):
        self.started, self.joined = True, False
        for number in range(self.max):
            thread = threading.Thread(
                target=self._work, name=f"PoolThread-{self.name}-{number}", daemon=True
            )
            self.threads.append(thread)
            thread.start()

    def callInThread(self, f, *args, **kwargs):
        self._calls.put((None, f, args, kwargs))

    def callInThreadWithCallback(self, onResult, f, *args, **kwargs):
        """As ``ThreadPool``'s: ``onResult(True, result)`` or
        ``onResult(False, failure)``, in the worker thread."""
        self._calls.put((onResult, f, args, kwargs))

    def stop(self):
        """Let the calls queued so far run, then end every thread and wait
        for it. Blocks: call it outside the reactor thread, as
        ``ThreadPoolService`` does."""
        self.joined = True
        self.started = False
        threads, self.threads = self.threads, []
        for _ in threads:
            self._calls.put(STOP)
        for thread in threads:
            thread.join()

    def _work(self):
        me = threading.current_thread()
        while True:
            call = self._calls.get()
            if call is STOP:
                return
            on_result, f, args, kwargs = call
            with self._lock:
                self._working.add(me)
            try:
                result, ok = f(*args, **kwargs), True
            except BaseException:
                result, ok = Failure(), False
            finally:
                with self._lock:
                    self._working.discard(me)
            del call, f, args, kwargs  # Nothing of it outlives the call.
            if on_result is not None:
                try:
                    on_result(ok, result)
                except BaseException:
                    self.log.failure("Error in the result callback of a pool call")
            elif not ok:
                self.log.failure("Error in a pool call", failure=result)
            del result, on_result
