"""A reactor whose thread writes log lines back to back, through Twisted's
``LogFile`` as ``twistd --logfile`` does, and whose shutdown lasts DRAIN
seconds, for a test to send stop signals to:

    python -m support.reactor_storm HANDLERS LOGFILE DRAIN

HANDLERS says what handles SIGTERM and SIGINT: ``twisted``, the reactor's own
methods; ``step``, step 4's ``QueuedStopSignals`` (its folder on PYTHONPATH);
``package``, ``twistd_django.signals.StopSignals``. Prints "running" once they
are in place, and "stopped" when the reactor has stopped."""

import sys
import time

from twisted.internet import reactor, task
from twisted.logger import Logger, globalLogBeginner, textFileLogObserver
from twisted.python.logfile import LogFile

log = Logger()


def write_lines(seconds=0.01):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        log.info("a log line, as under load")


def main(handlers, logfile, drain):
    globalLogBeginner.beginLoggingTo(
        [textFileLogObserver(LogFile.fromFullPath(logfile, rotateLength=None))],
        redirectStandardIO=False,
    )
    if handlers == "step":
        from djangostep.signals import QueuedStopSignals

        QueuedStopSignals(reactor).startService()
    elif handlers == "package":
        from twistd_django.signals import StopSignals

        StopSignals(reactor).startService()
    elif handlers != "twisted":
        sys.exit(f"unknown HANDLERS {handlers!r}")
    task.LoopingCall(write_lines).start(0)
    reactor.addSystemEventTrigger(
        "before", "shutdown", task.deferLater, reactor, drain, lambda: None
    )
    # After the services' own callWhenRunning: their handlers are in place.
    reactor.callWhenRunning(print, "running", flush=True)
    reactor.run()
    print("stopped", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
