"""Slow clients: a deadline for the request head frees their connections."""

import select
import socket
import statistics
import threading
import time

import pytest

from support.reliability import (
    HOST,
    PRODUCTION,
    fds,
    ms,
    production_daemon,
    settles,
    timed_get,
)
from support.results import record

GROUP = "Slow clients"
HEAD_TIMEOUT = 3.0
TRICKLERS = 150
IDLE = 20
HEAD = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: " + b"a" * 1000
CASES = ["trickling-headers", "idle-connections", "no-head-deadline"]


class SlowClients:
    """Connections that trickle a header byte every ``interval`` seconds, and
    connections that send nothing; note when the server closes each one."""

    def __init__(self, port, tricklers, idle, timeout=5):
        """Connect all at once: non-blocking, then wait until each is up."""
        pending = {}
        for n in range(tricklers + idle):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex((HOST, port))
            pending[sock.fileno()] = (sock, n < tricklers)
        self.socks = {}
        poller = select.poll()
        for fd in pending:
            poller.register(fd, select.POLLOUT)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for fd, _ in poller.poll(100):
                sock, trickles = pending.pop(fd)
                poller.unregister(fd)
                self.socks[sock] = (trickles, time.monotonic())
        assert not pending, f"{len(pending)} connections not up in {timeout} s"
        self.closed_after = {}  # socket: seconds from connect to close

    def run(self, duration, interval=0.25, tick=lambda: None):
        """Trickle for at most ``duration`` seconds, or until all are closed;
        call ``tick`` once a round."""
        poller = select.poll()
        for sock in self.socks:
            poller.register(sock, select.POLLIN)
        deadline = time.monotonic() + duration
        sent = 0
        while self.open() and time.monotonic() < deadline:
            tick()
            for sock, (trickles, _) in self.socks.items():
                if trickles and sock not in self.closed_after:
                    try:
                        sock.send(HEAD[sent : sent + 1])
                    except OSError:
                        self._closed(sock)
            sent += 1
            for fd, _ in poller.poll(interval * 1000):
                sock = next(s for s in self.socks if s.fileno() == fd)
                poller.unregister(fd)
                self._closed(sock)
        return sent

    def _closed(self, sock):
        if sock not in self.closed_after:
            self.closed_after[sock] = time.monotonic() - self.socks[sock][1]

    def open(self):
        return len(self.socks) - len(self.closed_after)

    def times(self, trickling):
        return [
            t for s, t in self.closed_after.items() if self.socks[s][0] == trickling
        ]

    def close(self):
        for sock in self.socks:
            sock.close()


class Prober(threading.Thread):
    """GET /plain/ again and again while the slow clients hold on."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.results = port, threading.Event(), []

    def run(self):
        while not self.stop.is_set():
            self.results.append(timed_get(self.port, "/plain/", timeout=5))
            self.stop.wait(0.05)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, site_data):
    workdir = tmp_path_factory.mktemp("slow")
    extra = ["--head-timeout", str(HEAD_TIMEOUT)]
    with production_daemon(workdir, site_data, extra) as daemon:
        yield daemon


def test_trickling_and_idle_clients_are_cut_off(daemon):
    fds_before = fds(daemon.pid)
    assert timed_get(daemon.port, "/plain/")[0] == 200
    # The baseline, on this machine now (loaded or not): normal requests alone.
    baseline = sorted(timed_get(daemon.port, "/plain/")[1] for _ in range(20))
    prober = Prober(daemon.port)
    clients = SlowClients(daemon.port, TRICKLERS, IDLE)
    try:
        peak = [fds(daemon.pid)]
        prober.start()
        started = time.monotonic()
        clients.run(
            duration=HEAD_TIMEOUT + 4, tick=lambda: peak.append(fds(daemon.pid))
        )
        trickled = time.monotonic() - started
    finally:
        prober.stop.set()
        prober.join(10)
        clients.close()
    fds_after = settles(lambda: fds(daemon.pid), fds_before, timeout=5)

    assert clients.open() == 0, f"{clients.open()} connections were never closed"
    trickle_times = clients.times(trickling=True)
    idle_times = clients.times(trickling=False)
    assert len(trickle_times) == TRICKLERS and len(idle_times) == IDLE
    # Not before the deadline; and all closed while the clients ran, for
    # HEAD_TIMEOUT + 4 s (clients.open() == 0 above), long before Twisted's
    # 60 s idle timeout could: a loaded reactor may close them a little
    # after the deadline, but it is the deadline that closes them.
    for times in (trickle_times, idle_times):
        assert HEAD_TIMEOUT - 0.2 <= min(times)
    fds_peak = max(peak)
    assert fds_peak >= fds_before + TRICKLERS  # It held them at once.
    assert fds_after <= fds_before
    statuses = [status for status, _ in prober.results]
    latencies = sorted(seconds for _, seconds in prober.results)
    assert len(statuses) >= 10 and set(statuses) == {200}
    # Served as fast as without the slow clients: bounds from the baseline
    # measured above, so that a loaded machine moves both.
    assert statistics.median(latencies) < max(0.1, 4 * statistics.median(baseline))
    # A connection whose SYN met a full listen queue (Twisted's backlog is 50)
    # waits for the kernel to send it again, 1 s later.
    assert latencies[-1] < 2.0 + baseline[-1]

    record(
        "trickling-headers",
        group=GROUP,
        test="test_reliability_slow_clients.py::"
        "test_trickling_and_idle_clients_are_cut_off",
        input=f"{TRICKLERS} connections sending a header byte every 0.25 s,"
        f" --head-timeout {HEAD_TIMEOUT:g}",
        outcome="each closed at the deadline; normal requests served meanwhile",
        figures={
            "closed after s (max)": round(max(trickle_times), 2),
            "normal requests": len(statuses),
            "their median ms": ms(statistics.median(latencies)),
            "their max ms": ms(latencies[-1]),
            "fds before / peak / after": f"{fds_before} / {fds_peak} / {fds_after}",
            "trickled for s": round(trickled, 1),
        },
    )
    record(
        "idle-connections",
        group=GROUP,
        test="test_reliability_slow_clients.py::"
        "test_trickling_and_idle_clients_are_cut_off",
        input=f"{IDLE} connections that send nothing, beside them",
        outcome="each closed at the deadline",
        figures={"closed after s (max)": round(max(idle_times), 2)},
    )


def test_without_the_deadline_a_trickler_keeps_its_connection(twistd):
    daemon = twistd(PRODUCTION, extra_args=["--head-timeout", "0"])
    clients = SlowClients(daemon.port, tricklers=1, idle=0)
    try:
        clients.run(duration=HEAD_TIMEOUT * 2)
        still_open = clients.open()
    finally:
        clients.close()
    assert still_open == 1
    record(
        "no-head-deadline",
        group=GROUP,
        test="test_reliability_slow_clients.py::"
        "test_without_the_deadline_a_trickler_keeps_its_connection",
        input="one connection trickling header bytes, --head-timeout 0 (off)",
        outcome="still open: Twisted's idle timeout restarts with every byte",
        figures={"still open after s": HEAD_TIMEOUT * 2},
    )
