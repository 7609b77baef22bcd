"""Stop signals that come in a burst: an impatient Ctrl-C, a supervisor that
sends SIGTERM again, ``kill`` in a loop. Twisted's reactor logs "Received
SIGTERM, shutting down." from inside its signal handler; a second signal
that lands while that line is being written runs the handler again in the
same thread, which then waits for the log file's lock that it holds itself.
The package queues the reactor's handler instead (``twistd_django.signals``).
Each burst must leave the request in flight answered whole, the daemon gone
within the drain, and one shutdown in the log."""

import os
import signal
import time

import pytest

from support.inflight import send_and_wait_until_running
from support.procs import is_running, wait_until
from support.reliability import PRODUCTION
from support.results import record

GROUP = "Faults"
CASES = ["stop-signal-burst-sigterm", "stop-signal-burst-sigint"]
BURST = 0.5  # Seconds of signals, sent back to back...
MAX_SIGNALS = 20_000  # ...but no more than this many.
SLOW = 3.0  # Seconds the request in flight takes.
NAMES = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT"}


@pytest.mark.parametrize("signum", list(NAMES), ids=list(NAMES.values()))
def test_a_burst_of_stop_signals_stops_the_daemon_once(twistd, signum):
    name = NAMES[signum]
    daemon = twistd(PRODUCTION, extra_args=["--drain-timeout=20"])
    request = send_and_wait_until_running(daemon, f"/slow/?seconds={SLOW:g}")
    sent = time.monotonic()
    count = 0
    while count < MAX_SIGNALS and time.monotonic() < sent + BURST:
        os.kill(daemon.pid, signum)
        count += 1
    # The whole burst may come before the reactor's turn that stops, and be
    # one request to stop. Then a signal after that turn is a repeat, and
    # must be noted (one every 0.2 s, until one is, while the drain lasts).
    stopping, noted = f"Received {name}, shutting down.", f"Received {name}: already"

    def repeat_noted():
        log = daemon.log()
        if noted in log:
            return True
        if stopping in log and is_running(daemon.pid):
            os.kill(daemon.pid, signum)
        return False

    wait_until(repeat_noted, SLOW + 10, 0.2)
    # A deadlocked daemon never exits: the bound is for that hang only.
    exited = wait_until(lambda: not is_running(daemon.pid), SLOW + 20, 0.01)
    exit_s = time.monotonic() - sent
    request.join(10)
    log = daemon.log()
    assert exited, f"still running {exit_s:.1f} s after {count} x {name}\n{log}"

    assert request.error is None, request.error
    assert request.response.status == 200
    assert request.response.headers["Connection"] == "close"
    assert log.count(f"Received {name}, shutting down.") == 1, log
    assert log.count("Server Shut Down.") == 1, log
    assert "Unhandled Error" not in log and "ReactorNotRunning" not in log, log
    repeats = log.count(noted)
    assert repeats >= 1, log
    record(
        f"stop-signal-burst-{name.lower()}",
        group=GROUP,
        test="test_reliability_signals.py::"
        "test_a_burst_of_stop_signals_stops_the_daemon_once",
        input=f"{name} sent back to back, {MAX_SIGNALS} times or for"
        f" {BURST:g} s, whichever ends first; a {SLOW:g} s request in flight",
        outcome="the request answered whole with Connection: close; one"
        " shutdown, no traceback; the later signals noted at most once a"
        " second; the daemon gone after the drain",
        figures={
            "signals sent": count,
            "already shutting down lines": repeats,
            "exit s": round(exit_s, 2),
        },
    )
