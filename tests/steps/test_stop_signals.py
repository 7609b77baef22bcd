"""Stop signals that land while the reactor thread writes a log line.

Twisted's own SIGTERM handler logs inside the signal handler: a signal that
lands inside a log write waits for the ``LogFile`` lock its own thread holds,
and the process hangs (docs/explanation/stop-signals.rst). Step 4's
``QueuedStopSignals`` and the package's ``StopSignals`` only queue the
reactor's handler. Each case runs ``support.reactor_storm`` (a reactor that
logs back to back, with a shutdown that lasts DRAIN seconds) and sends it
SIGTERM every half millisecond, as a supervisor or an impatient operator
might, until it exits or its log stops growing.
"""

import os
import selectors
import signal
import subprocess
import sys
import time

import pytest

from support.stacks import python_stacks
from support.steps import ROOT, STEPS

STEP_4 = next(s for s in STEPS if s.id == "tap-04-graceful-shutdown")
DRAIN = 4.0  # Seconds the shutdown of a queued case lasts.
TRAP_DRAIN = 30.0  # Twisted's case: time enough to land in a log write.
QUIET = 5.0  # Seconds without a new log line, while running: a hang.
GAP = 0.0005  # Seconds between two signals.


def read_line(process, timeout):
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return None
    return process.stdout.readline().strip()


def storm(process, logfile, drain, gap=GAP):
    """SIGTERM every ``gap`` seconds until ``process`` exits ("exited") or its log
    has not grown for QUIET seconds ("hung"); at most ``drain`` + 20 s."""
    size, grown = -1, time.monotonic()
    deadline = time.monotonic() + drain + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "exited"
        os.kill(process.pid, signal.SIGTERM)
        now = time.monotonic()
        if logfile.stat().st_size != size:
            size, grown = logfile.stat().st_size, now
        elif now - grown >= QUIET:
            return "hung"
        time.sleep(gap)
    return "still running, log growing"


@pytest.fixture
def storm_process(tmp_path):
    started = []

    def start(handlers, drain):
        logfile = tmp_path / "storm.log"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(STEP_4.folder)])
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "support.reactor_storm",
                handlers,
                str(logfile),
                str(drain),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        line = read_line(process, 20)
        if line != "running":
            process.kill()  # Then its output can be read to the end.
            pytest.fail(f"no 'running' line in 20 s: {line!r}{process.stdout.read()}")
        return process, logfile

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_twisted_handler_hangs_when_a_signal_lands_in_a_log_write(storm_process):
    process, logfile = storm_process("twisted", TRAP_DRAIN)
    assert storm(process, logfile, TRAP_DRAIN) == "hung"
    stacks = python_stacks(process.pid)
    if "Thread" not in stacks:  # py-spy cannot read it (no ptrace here).
        pytest.skip(f"the hang is shown, not its stack: {stacks}")
    # The handler, inside a log write, waits for the lock of LogFile.
    assert "sigTerm" in stacks and "_synchPre" in stacks, stacks
    assert stacks.index("sigTerm") > stacks.index("_synchPre"), stacks


@pytest.mark.parametrize("gap", [GAP, 0], ids=["every-half-ms", "back-to-back"])
@pytest.mark.parametrize("handlers", ["step", "package"])
def test_queued_stop_signals_stop_once_the_drain_is_over(storm_process, handlers, gap):
    process, logfile = storm_process(handlers, DRAIN)
    began = time.monotonic()
    assert storm(process, logfile, DRAIN, gap) == "exited"
    elapsed = time.monotonic() - began
    output = process.stdout.read()
    assert output.strip() == "stopped", output
    # Once Python is exiting, SIGTERM has its default action again.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert elapsed >= DRAIN  # It stopped after the drain, not before it.
    log = logfile.read_text()
    assert "Received SIGTERM, shutting down." in log
    # Handlers that ran inside handlers, without end, would raise this.
    assert "RecursionError" not in log
