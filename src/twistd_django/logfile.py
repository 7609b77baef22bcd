"""Log files that work with logrotate: never rotated by the daemon, opened
anew at their path on ``SIGUSR1``.

twistd writes its log through Twisted's ``LogFile``, which rotates by itself
at 1,000,000 bytes (renaming ``twistd.log`` to ``twistd.log.1``, the names
logrotate uses too), with no option to turn that off; and its ``SIGUSR1``
rotation does nothing once logrotate has moved the file
(``LogFile.rotate()`` returns early when its path is not writable, and it
is not, being gone), so twistd goes on writing into the moved file.

``DjangoService`` gives twistd its own log observer instead (twistd takes an
``ILogObserver`` component of the application before it reads
``--logfile``), writing to the same ``--logfile`` path through a
``ReopeningFile``; the access log (``--access-log``) is one too. On
``SIGUSR1`` every ``ReopeningFile`` closes its file and opens its path
again. So logrotate renames the files, then sends ``SIGUSR1``
(``postrotate``): the lines written between the two are in the old file,
every line after them in the new one, none lost and none twice.
"""

import os
import signal
import threading
import weakref
from collections import deque

from twisted.logger import Logger, textFileLogObserver

log = Logger()
OPEN = weakref.WeakSet()  # Every ReopeningFile not closed.


class ReopeningFile:
    """A text file opened for appending (``O_APPEND``, so that a
    ``copytruncate`` leaves no hole either), flushed at every write, and
    opened anew at its path by ``reopen()``. Writes may come from any
    thread, and from a signal handler: one that interrupts its own thread's
    write leaves its text for that write to finish with, in order."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.lock = threading.RLock()  # C RLock: owned as soon as acquired.
        self.pending = deque()
        self.writing = False
        self.file = self._open()
        self.closed = False
        OPEN.add(self)

    def _open(self):
        return open(self.path, "a", encoding="utf-8", errors="replace", newline="\n")

    def write(self, text):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        with self.lock:
            self.pending.append(text)
            if self.writing:
                return  # A signal handler, inside this thread's own write.
            while self.pending:
                self.writing = True
                try:
                    while self.pending and not self.closed:
                        self.file.write(self.pending.popleft())
                    if not self.closed:
                        self.file.flush()
                finally:
                    self.writing = False
                if self.closed:
                    self.pending.clear()

    def flush(self):
        with self.lock:
            if not self.closed:
                self.file.flush()

    def reopen(self):
        """Close the file and open its path again. If that fails (the folder
        is gone, or not writable after a privilege drop), keep the old one
        and say so in the log."""
        with self.lock:
            if self.closed:
                return
            try:
                new = self._open()
            except OSError as error:
                problem = error
            else:
                old, self.file, problem = self.file, new, None
                old.close()
        if problem is not None:
            log.error(
                "Cannot reopen {path}: {error}; still writing to the old file.",
                path=self.path,
                error=problem,
            )

    def close(self):
        with self.lock:
            if not self.closed:
                self.closed = True
                self.file.close()
        OPEN.discard(self)


def reopen_all():
    """Open every ``ReopeningFile`` anew at its path."""
    for logfile in list(OPEN):
        logfile.reopen()


def install_signal_handler(reactor=None):
    """On ``SIGUSR1``, call ``reopen_all`` in the reactor thread, unless
    something else handles ``SIGUSR1`` already. Installed before twistd
    forks, the handler is the daemon's too. Returns True if installed."""
    if reactor is None:
        from twisted.internet import reactor
    current = signal.getsignal(signal.SIGUSR1)
    if current not in (signal.SIG_DFL, None) and not getattr(
        current, "reopens_logs", False
    ):
        return False

    def handler(signum, frame):
        reactor.callFromThread(reopen_all)

    handler.reopens_logs = True
    signal.signal(signal.SIGUSR1, handler)
    return True


def twistd_log_path(server_options):
    """The file twistd would log to, from twistd's own options, or None when
    it logs elsewhere: to syslog, to standard output (``--nodaemon`` with
    ``--logfile=-`` or no ``--logfile``), or through ``--logger``."""
    if server_options is None:
        return None
    get = getattr(server_options, "get", None)
    if get is None:
        return None
    if get("syslog") or get("logger"):
        return None
    logfile = get("logfile") or ""
    if logfile == "-" or (get("nodaemon") and not logfile):
        return None
    return logfile or "twistd.log"


def twistd_log_observer(server_options):
    """A log observer that writes what twistd would write to ``--logfile``,
    in the same format, through a ``ReopeningFile``; None if twistd does not
    log to a file. Installs the ``SIGUSR1`` handler."""
    path = twistd_log_path(server_options)
    if path is None:
        return None
    observer = textFileLogObserver(ReopeningFile(path))
    install_signal_handler()
    return observer
