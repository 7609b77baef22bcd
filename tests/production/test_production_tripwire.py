"""The fork tripwire turns the silent hang into a loud startup error."""

import sys

import pytest

from support.http import get
from support.steps import PACKAGE, STEPS

PRODUCTION = PACKAGE
BY_ID = {s.id: s for s in STEPS}
TRIPWIRE = [sys.executable, "-m", "twistd_django.tripwire"]


def with_tripwire(twistd, step, daemonize=True):
    """Run ``step`` under ``python -m twistd_django.tripwire``, from the
    installed package, beside the step's own code."""
    return twistd(step, daemonize=daemonize, start=False, program=TRIPWIRE)


@pytest.mark.parametrize("step_id", ["tap-01-broken", "tac-01-broken"])
def test_tripwire_stops_a_broken_step_before_it_daemonizes(twistd, step_id):
    daemon = with_tripwire(twistd, BY_ID[step_id])
    status = daemon.launch()
    output = daemon.output.decode()
    assert status == 1, output
    assert "ForkTripwire: threads were running when twistd forked" in output
    assert "PoolThread-" in output
    assert "startService()" in output
    assert not daemon.pidfile.exists()


@pytest.mark.parametrize("step_id", ["tap-04-graceful-shutdown", "tac-02-multiservice"])
def test_tripwire_is_silent_for_a_fixed_step(twistd, step_id):
    daemon = with_tripwire(twistd, BY_ID[step_id]).start()
    assert get(daemon.port, "/").status == 200
    assert "ForkTripwire" not in daemon.log()


def test_tripwire_is_silent_in_the_foreground(twistd):
    daemon = with_tripwire(twistd, BY_ID["tac-01-broken"], daemonize=False).start()
    assert get(daemon.port, "/").status == 200


THREAD_IN_SETTINGS = """
import threading
import time

from backupsite.settings import *  # noqa: F403

# A project that starts a background thread at import time, for example a
# metrics exporter: in a daemon this thread would silently not exist.
threading.Thread(target=time.sleep, args=(60,), name="metrics", daemon=True).start()
"""


@pytest.mark.parametrize("tripwire", ["yes", "no"])
def test_production_plugin_has_its_own_tripwire(twistd, tripwire):
    daemon = twistd(PRODUCTION, start=False)
    (daemon.workdir / "threaded_settings.py").write_text(THREAD_IN_SETTINGS)
    daemon.env["PYTHONPATH"] += f":{daemon.workdir}"
    daemon.args = [
        *("django", "--settings", "threaded_settings", "--listen", "tcp:{port}"),
        *("--fork-tripwire", tripwire),
    ]
    if tripwire == "yes":
        assert daemon.launch() == 1
        assert "none of them: metrics." in daemon.output.decode()
        assert not daemon.pidfile.exists()
    else:
        daemon.start()
        assert get(daemon.port, "/").status == 200


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the warning is new in 3.12")
def test_python_warns_at_a_fork_with_threads(twistd):
    """With warnings on, Python 3.12+ flags the broken .tac file's fork."""
    daemon = twistd(BY_ID["tac-01-broken"], start=False)
    daemon.env["PYTHONWARNINGS"] = "default"
    daemon.start()
    log = daemon.log()
    assert "DeprecationWarning: This process (pid=" in log
    assert "is multi-threaded, use of fork() may lead to deadlocks" in log
