"""The live-updates recipe, at the protocol level: a WebSocket at /live/ beside
Django, on the same port, in the backup server's daemon.

examples/recipes/live-updates, documented in docs/howto/push-live-updates.rst.
Its clients are the registry's ``websockets`` (sync, and asyncio in a
process of their own for the crowd) and a bare socket for a client that
reads nothing. Every wait is a bounded condition.
"""

import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from support.http import get
from support.procs import wait_until
from support.recipes import LineClient
from support.site import prepare_site

websockets = pytest.importorskip(
    "websockets", reason="pip install websockets (the test extra) for these tests"
)
from websockets.exceptions import ConnectionClosed  # noqa: E402

from support.live import (  # noqa: E402
    Browserless,
    RawWebSocket,
    make_sessions,
    next_message,
    open_ws,
    refused_status,
    rss_kib,
    start_live,
    state,
)

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def own_data(tmp_path_factory):
    """A site data directory for the tests that report thousands of
    snapshots, so that the session's database stays small."""
    return prepare_site(tmp_path_factory.mktemp("live-data"))


@pytest.fixture(scope="module")
def keys(site_data):
    """Sessions: alice and carol may see snapshots, bob may not."""
    return make_sessions(
        site_data, [("alice", True, 3600), ("bob", False, 3600), ("carol", True, 3600)]
    )


def report(daemon, label, host="db1", size=4096, agent=None):
    """Report one snapshot over the agents' protocol; return its id."""
    if agent is None:
        with LineClient(daemon.agents_port) as agent:
            assert agent.ask(f"HELLO {host}") == f"OK hello {host}"
            return report(daemon, label, host, size, agent)
    answer = agent.ask(f"REPORT ok {size} {label}", timeout=20)
    assert re.fullmatch(r"OK \d+", answer), answer
    return int(answer.split()[1])


def closed_code(ws, timeout=10):
    """Wait for the server to close ``ws``; its close code."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except TimeoutError:
            break
    raise AssertionError(f"still open after {timeout} s")


@pytest.mark.parametrize("daemonize", [True, False], ids=["daemonized", "foreground"])
def test_a_reported_snapshot_is_pushed_to_every_page(twistd, keys, daemonize):
    daemon = start_live(twistd, daemonize=daemonize)
    with (
        open_ws(daemon, keys["alice"]) as page1,
        open_ws(daemon, keys["carol"]) as page2,
    ):
        assert wait_until(lambda: state(daemon)["connections"] == 2, 5)
        label = f"/srv/live-{time.monotonic_ns()}"
        sent = time.monotonic()
        snapshot_id = report(daemon, label, size=1048576)
        for page in (page1, page2):
            message = next_message(page, timeout=2)
            assert time.monotonic() - sent < 2
            assert message == {
                "type": "snapshot",
                "snapshot": {
                    "id": snapshot_id,
                    "host": "db1",
                    "label": label,
                    "status": "ok",
                    "status_display": "OK",
                    "size": "1.0\xa0MB",
                    "started": message["snapshot"]["started"],
                    "finished": message["snapshot"]["finished"],
                },
            }
    # The same row on the page without JavaScript.
    page = get(daemon.port, "/").text
    assert f'<tr data-snapshot="{snapshot_id}">' in page and label in page
    # The ORM in the ORM pool, the push in the reactor thread.
    log = daemon.log()
    assert re.search(
        rf"Stored snapshot {snapshot_id} of db1: \S+ \(ok\), in thread PoolThread-orm-\d",
        log,
    )
    assert f"Pushed snapshot {snapshot_id} to 2 page(s), in thread MainThread" in log
    daemon.stop()
    assert "Traceback" not in daemon.log()


def test_anonymous_or_unknown_sessions_get_403(twistd, keys):
    daemon = start_live(twistd)
    assert refused_status(daemon) == (403, "403 log in first\n")
    assert refused_status(daemon, "no-such-session-key") == (403, "403 log in first\n")
    # A page that is not a handshake is told what this is.
    response = get(daemon.port, "/live/")
    assert (response.status, response.headers["Upgrade"]) == (426, "websocket")
    assert state(daemon)["opened"] == 0


def test_a_user_without_the_permission_gets_403(twistd, keys):
    daemon = start_live(twistd)
    assert refused_status(daemon, keys["bob"]) == (
        403,
        "403 no permission to see snapshots\n",
    )


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://127.0.0.1:{port}",  # Same host, another scheme.
        "http://127.0.0.1:1",  # Same host, another port.
        None,
    ],
    ids=["foreign", "scheme", "port", "none"],
)
def test_a_foreign_origin_gets_403_even_with_a_session(twistd, keys, origin):
    daemon = start_live(twistd)
    if origin is not None:
        origin = origin.format(port=daemon.port)
    status, body = refused_status(daemon, keys["alice"], origin=origin)
    assert status == 403
    assert body.startswith("403 foreign Origin" if origin else "403 no Origin")
    with open_ws(daemon, keys["alice"]):  # The site's own origin is fine.
        pass
    assert state(daemon)["opened"] == 1


def test_an_oversized_message_closes_with_1009(twistd, keys):
    daemon = start_live(twistd, ["--live-max-message=4096"])
    with open_ws(daemon, keys["alice"]) as ws:
        ws.send("x" * 4096)  # At the limit: ignored, and the page stays.
        ws.ping().wait(5)
        ws.send("x" * 4097)
        assert closed_code(ws) == 1009
    with open_ws(daemon, keys["alice"]) as ws:  # In fragments, 1 MB in all.
        try:
            ws.send(iter([b"y" * 1024] * 1024))
            code = closed_code(ws)
        except ConnectionClosed as closed:  # Closed while it still sent.
            code = closed.rcvd.code if closed.rcvd else None
        assert code == 1009
    assert state(daemon)["too_big"] == 2
    assert "a message over 4096 bytes" in daemon.log()


def test_connections_are_capped_per_user_and_in_all(twistd, keys):
    daemon = start_live(twistd, ["--live-max-per-user=2", "--live-max-connections=3"])
    with open_ws(daemon, keys["alice"]), open_ws(daemon, keys["alice"]):
        status, body = refused_status(daemon, keys["alice"])
        assert (status, body) == (429, "429 2 WebSockets open for this user\n")
        with open_ws(daemon, keys["carol"]):
            status, body = refused_status(daemon, keys["carol"])
            assert (status, body) == (503, "503 the server has 3 WebSockets\n")
        assert wait_until(lambda: state(daemon)["connections"] == 2, 5)
        with open_ws(daemon, keys["carol"]):  # A place is free again.
            pass


def test_logging_out_closes_the_pages_of_that_session_at_once(twistd, site_data):
    make_sessions(site_data, [("dora", True, 3600)])
    # A long re-check: what closes the page is the logout itself.
    daemon = start_live(twistd, ["--live-recheck=600"])
    browser = Browserless(daemon)
    key = browser.log_in("dora")
    with open_ws(daemon, key) as ws, open_ws(daemon, key) as other_tab:
        other_session = make_sessions(site_data, [("dora", True, 3600)])["dora"]
        with open_ws(daemon, other_session) as elsewhere:
            started = time.monotonic()
            assert browser.log_out() == 200
            assert closed_code(ws, timeout=5) == 1008
            assert closed_code(other_tab, timeout=5) == 1008
            assert time.monotonic() - started < 5
            elsewhere.ping().wait(5)  # Dora's other session is still live.
    assert refused_status(daemon, key)[0] == 403


def test_an_expired_session_is_closed_within_the_recheck(twistd, site_data):
    daemon = start_live(twistd, ["--live-recheck=0.5"])
    lifetime = 6
    made = time.monotonic()
    key = make_sessions(site_data, [("erin", True, lifetime)])["erin"]
    ready = time.monotonic()  # The session expires between these, + lifetime.
    with open_ws(daemon, key) as ws:
        code = closed_code(ws, timeout=lifetime + 15)
        closed = time.monotonic()
    assert code == 1008
    # Closed once the session had expired, and within the re-check after it.
    assert made + lifetime <= closed <= ready + lifetime + 0.5 + 3


def test_a_slow_consumer_is_dropped_and_memory_stays_bounded(twistd, own_data):
    """A client that reads nothing, with a small receive buffer: once its
    backlog passes the limit it is cut off, while a page that reads gets
    every message. Pushing continues; the daemon's memory does not follow."""
    keys = make_sessions(own_data, [("alice", True, 3600), ("carol", True, 3600)])
    with contextlib.ExitStack() as stack:
        slow_consumer(twistd, own_data, keys, stack)


def slow_consumer(twistd, data, keys, stack):
    backlog = 64 * 1024
    daemon = start_live(twistd, [f"--live-backlog={backlog}"], data=data)
    fast = stack.enter_context(open_ws(daemon, keys["carol"], max_queue=None))
    slow = RawWebSocket(daemon, keys["alice"], receive_buffer=4096)
    assert wait_until(lambda: state(daemon)["connections"] == 2, 5)
    before = rss_kib(daemon.pid)
    reports, label = 1500, "/srv/" + "x" * 240  # About 400 bytes a message.
    with LineClient(daemon.agents_port) as agent:
        assert agent.ask("HELLO bulk").startswith("OK")
        for start in range(0, reports, 500):  # Pipelined, 500 at a time.
            agent.sock.sendall(
                b"".join(
                    f"REPORT ok {n} {label}\n".encode()
                    for n in range(start, start + 500)
                )
            )
            for _ in range(500):
                assert agent.receive(timeout=30).startswith("OK")
    pushed_bytes = reports * 400
    got = 0
    deadline = time.monotonic() + 30
    while got < reports and time.monotonic() < deadline:
        if next_message(fast, timeout=10)["type"] == "snapshot":
            got += 1
    assert got == reports
    after = rss_kib(daemon.pid)
    found = state(daemon)
    assert found["dropped_slow"] == 1
    assert found["connections"] == 1
    # It was cut off as soon as its backlog passed the limit, not later.
    assert backlog < found["backlog_peak"] <= backlog + 1024
    assert slow.is_reset(timeout=10)
    slow.close()
    # 600 kB went out to each page, twice what the slow one could hold: its
    # backlog, its transport's 64 KiB and the kernel's buffers (SO_SNDBUF).
    assert pushed_bytes > 2 * (backlog + 64 * 1024 + 2 * 64 * 1024)
    assert after - before < 16 * 1024, (before, after)
    logs = "".join(p.read_text() for p in daemon.workdir.glob("twistd.log*"))
    assert "Dropped the WebSocket of alice: it reads too slowly" in logs


def run_crowd(daemon, key, clients, expect=None, timeout=120):
    """Start the crowd of clients (support/live_crowd.py); wait until all are
    open. Returns the process."""
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    crowd = subprocess.Popen(
        [sys.executable, "-m", "support.live_crowd", str(daemon.port), key]
        + [str(clients), "--timeout", str(timeout)]
        + ([] if expect is None else ["--expect", str(expect)]),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = []
    reader = threading.Thread(target=lambda: line.append(crowd.stdout.readline()))
    reader.start()
    reader.join(60)
    if line != ["ready\n"]:
        crowd.kill()
        raise AssertionError(f"the crowd did not connect: {crowd.stderr.read()}")
    return crowd


def crowd_results(crowd, timeout=120):
    try:
        out, err = crowd.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        crowd.kill()
        raise
    assert crowd.returncode == 0, err
    return json.loads(out.splitlines()[-1])


def http_latencies(daemon, agent, reports, requests, prefix):
    """GET / over and over while an agent reports ``reports`` snapshots, one
    every 20 ms; the latencies of ``requests`` GETs at least, in seconds."""
    ids = []

    def reporting():
        for n in range(reports):
            ids.append(report(daemon, f"/srv/{prefix}-{n}", agent=agent))
            time.sleep(0.02)

    thread = threading.Thread(target=reporting)
    thread.start()
    latencies = []
    deadline = time.monotonic() + 120
    while (len(latencies) < requests or thread.is_alive()) and (
        time.monotonic() < deadline
    ):
        started = time.perf_counter()
        assert get(daemon.port, "/", timeout=10).status == 200
        latencies.append(time.perf_counter() - started)
    thread.join(30)
    assert len(ids) == reports
    return latencies, ids


def p99(latencies):
    return statistics.quantiles(latencies, n=100)[98]


def test_200_clients_get_every_message_and_http_keeps_its_latency(
    twistd, own_data, request
):
    clients, reports, requests = 200, 40, 300
    key = make_sessions(own_data, [("crowd", True, 3600)])["crowd"]
    daemon = start_live(twistd, [f"--live-max-per-user={clients}"], data=own_data)
    with LineClient(daemon.agents_port) as agent:
        assert agent.ask("HELLO crowd-agent").startswith("OK")
        http_latencies(daemon, agent, 10, 50, "warm-up")
        alone, _ = http_latencies(daemon, agent, reports, requests, "alone")
        crowd = run_crowd(daemon, key, clients, expect=reports)
        assert wait_until(lambda: state(daemon)["connections"] == clients, 10)
        loaded, ids = http_latencies(daemon, agent, reports, requests, "crowd")
        results = crowd_results(crowd)
        after, _ = http_latencies(daemon, agent, reports, requests, "after")
    baseline = max(p99(alone), p99(after))
    figures = {
        "clients": clients,
        "messages": reports,
        "http_requests": len(loaded),
        "p99_ms_without": round(baseline * 1000, 2),
        "p99_ms_with": round(p99(loaded) * 1000, 2),
        "median_ms_without": round(statistics.median(alone) * 1000, 2),
        "median_ms_with": round(statistics.median(loaded) * 1000, 2),
        "cpus": os.cpu_count(),
    }
    print("live-updates, 200 clients:", json.dumps(figures))
    request.node.user_properties.append(("figures", figures))
    assert [r["ids"] for r in results] == [ids] * clients  # All, in order.
    assert p99(loaded) <= 2 * baseline, figures


@pytest.mark.parametrize("in_flight", [None, 1.5, 30], ids=["idle", "drains", "stuck"])
def test_sigterm_closes_every_websocket_with_1001_after_the_drain(
    twistd, site_data, in_flight
):
    """The WebSockets close after the HTTP requests in flight have drained
    (``drains``), or, if one never ends, before the drain timeout passes
    (``stuck``); the daemon exits within its drain timeout."""
    drain = 6
    key = make_sessions(site_data, [("many", True, 3600)])["many"]
    daemon = start_live(twistd, [f"--drain-timeout={drain}", "--live-max-per-user=50"])
    crowd = run_crowd(daemon, key, 50, timeout=60)
    assert wait_until(lambda: state(daemon)["connections"] == 50, 10)
    answered = []

    def slow_request():
        try:
            response = get(daemon.port, f"/slow/?seconds={in_flight}", timeout=40)
        except OSError:  # "stuck": the daemon exits before it answers.
            return
        answered.append(response.status)

    if in_flight is not None:
        slow = threading.Thread(target=slow_request)
        sent = time.monotonic()
        slow.start()
        assert wait_until(
            lambda: json.loads(get(daemon.port, "/_twistd/ready").body)["busy"] == 1, 5
        )
    stopped = time.monotonic()
    daemon.signal(signal.SIGTERM)
    results = crowd_results(crowd, timeout=30)
    assert daemon.wait_stopped(drain + 3)
    exited = time.monotonic() - stopped
    assert [r["code"] for r in results] == [1001] * 50
    closed = max(r["closed_at"] for r in results) - stopped
    if in_flight == 1.5:
        slow.join(10)
        assert answered == [200]
        # The drain ends with the request, which the view keeps at least
        # in_flight seconds after it was sent. (The times at which two
        # clients see two connections end do not order them: the client's
        # own scheduling can put a close seen a millisecond earlier.)
        assert min(r["closed_at"] for r in results) >= sent + in_flight
    elif in_flight == 30:
        assert closed <= drain
    else:
        assert closed < 2
    assert exited <= drain + 1.5, exited
    assert "Closing 50 WebSocket(s) with 1001." in daemon.log()
