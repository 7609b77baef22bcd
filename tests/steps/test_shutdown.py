"""SIGTERM while a request is in flight: each step does what steps.toml says."""

import http.client
import signal

import pytest

from support.http import port_open
from support.inflight import send_and_wait_until_running
from support.procs import wait_until
from support.steps import STEPS

SLOW = "/slow/?seconds=2"
# The drain test's requests last 6 s. No fixed window bounds when the port
# must close: the test waits for the close, as long as the request may take,
# and asserts the order of the two events, the port closed and then the
# response complete. A machine loaded enough to delay the signal handler by
# seconds still shows the port closed while the request is in flight.
DRAIN_SECONDS = 6
DRAIN_SLOW = f"/slow/?seconds={DRAIN_SECONDS}"
DRAIN_STREAM = f"/stream/?chunks={DRAIN_SECONDS * 4}&delay=0.25"
CASES = [
    pytest.param(step, daemonize, id=f"{step.id}-{mode}")
    for step in STEPS
    for daemonize, mode in ((True, "daemonized"), (False, "foreground"))
    if step.claim(daemonize) == "serves"
]


def test_in_flight_claims_cover_every_serving_mode():
    assert CASES
    for param in CASES:
        assert param.values[0].in_flight_sigterm is not None


@pytest.mark.parametrize("run", range(3))
@pytest.mark.parametrize("path", [DRAIN_SLOW, DRAIN_STREAM], ids=["slow", "streaming"])
@pytest.mark.parametrize(
    "step,daemonize",
    [p for p in CASES if p.values[0].in_flight_sigterm == "completes"],
)
def test_sigterm_lets_the_request_in_flight_complete(
    twistd, step, daemonize, path, run
):
    daemon = twistd(step, daemonize=daemonize)
    request = send_and_wait_until_running(daemon, path, timeout=DRAIN_SECONDS + 20)
    daemon.signal(signal.SIGTERM)

    closed = wait_until(lambda: not port_open(daemon.port), DRAIN_SECONDS + 20)
    in_flight = request.is_alive()
    assert closed, "port still open"
    assert in_flight, "the port closed only after the request ended"
    request.join(DRAIN_SECONDS + 20)
    assert request.error is None, f"the request failed: {request.error!r}"
    assert request.response.status == 200
    last = DRAIN_SECONDS * 4 - 1
    expected = (
        f"slept {DRAIN_SECONDS:.1f} s\n"
        if path == DRAIN_SLOW
        else f"chunk {last}\ndone\n"
    )
    assert request.response.text.endswith(expected)
    assert daemon.wait_stopped(10), "the daemon did not exit after draining"


@pytest.mark.parametrize(
    "step,daemonize",
    [p for p in CASES if p.values[0].in_flight_sigterm != "completes"],
)
def test_sigterm_with_a_request_in_flight_hangs_the_daemon(twistd, step, daemonize):
    daemon = twistd(step, daemonize=daemonize)
    request = send_and_wait_until_running(daemon, SLOW, timeout=6)
    daemon.signal(signal.SIGTERM)

    request.join(8)
    if step.in_flight_sigterm == "deadlocks":
        assert isinstance(request.error, TimeoutError), request.error
    else:
        assert step.in_flight_sigterm == "cut-off-then-hangs"
        assert isinstance(request.error, http.client.RemoteDisconnected)
    # The view finished long ago, yet the process neither exits nor answers
    # a second SIGTERM; its pidfile stays. The finalizer needs SIGKILL. (A
    # window that asserts that nothing happens: load cannot make a hung
    # process exit, so it cannot fail this wrongly.)
    daemon.signal(signal.SIGTERM)
    assert not daemon.wait_stopped(2)
    assert daemon.running()
    assert daemon.pidfile.exists()


@pytest.mark.parametrize(
    "step",
    [s for s in STEPS if s.kind == "tap" and s.in_flight_sigterm == "completes"],
    ids=lambda s: s.id,
)
def test_a_view_stuck_past_the_drain_timeout_does_not_keep_the_daemon(twistd, step):
    daemon = twistd(step, extra_args=["--drain-timeout", "1"])
    request = send_and_wait_until_running(daemon, "/slow/?seconds=30", timeout=10)
    daemon.signal(signal.SIGTERM)

    assert daemon.wait_stopped(5), "the stuck view kept the daemon alive"
    request.join(5)
    # The client's connection is closed with no response.
    assert isinstance(request.error, http.client.RemoteDisconnected), request.error
    assert "1 request(s) still running after 1.0 s" in daemon.log()
