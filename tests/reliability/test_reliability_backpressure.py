"""Back-pressure: a full WSGI queue answers 503 at once, and recovers."""

import threading
import time

import pytest

from support.http import get
from support.reliability import PRODUCTION, ms, timed_get
from support.results import record

THREADS, MAX_QUEUE, CLIENTS = 4, 4, 16
SLOW_SECONDS = 2
SLOW = f"/slow/?seconds={SLOW_SECONDS}"
CASES = ["queue-full", "reactor-served-under-load"]


class Client(threading.Thread):
    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.status = self.seconds = self.retry_after = self.error = None

    def run(self):
        started = time.monotonic()
        try:
            response = get(self.port, self.path, timeout=15)
            self.status = response.status
            self.retry_after = response.headers.get("Retry-After")
        except Exception as error:  # noqa: BLE001 - the test reports it
            self.error = error
        self.seconds = time.monotonic() - started


@pytest.fixture
def daemon(twistd):
    extra = ["--threads", str(THREADS), "--max-queue", str(MAX_QUEUE)]
    return twistd(PRODUCTION, extra_args=extra)


def test_a_full_queue_answers_503_at_once(daemon):
    clients = [Client(daemon.port, SLOW) for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    # Meanwhile, what the reactor thread serves stays fast.
    during = []
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        for path in ("/static/catalogue/style.css", "/_twistd/live"):
            during.append((path, *timed_get(daemon.port, path)))
    for client in clients:
        client.join(15)
    after = timed_get(daemon.port, "/plain/")

    assert [c.error for c in clients] == [None] * CLIENTS
    served = [c for c in clients if c.status == 200]
    refused = [c for c in clients if c.status == 503]
    assert len(served) == THREADS + MAX_QUEUE
    assert len(refused) == CLIENTS - THREADS - MAX_QUEUE
    assert {c.retry_after for c in refused} == {"1"}
    slowest_503 = max(c.seconds for c in refused)
    # "At once": every 503 came before the first 200, which had to wait for
    # its 2 s view; a refusal that waited for a thread would come after it.
    # Events, not a wall-clock bound, so a loaded machine cannot fail it.
    assert slowest_503 < min(c.seconds for c in served)
    assert max(c.seconds for c in served) >= 4  # Two rounds of 2 s each.
    assert after[0] == 200
    assert {status for _, status, _ in during} == {200}
    slowest = {p: max(s for q, _, s in during if q == p) for p, _, _ in during}
    # The reactor serves these itself: none waited for a thread of the pool,
    # which would take the 2 s of a view.
    assert max(slowest.values()) < SLOW_SECONDS

    record(
        "queue-full",
        group="Back-pressure",
        test="test_reliability_backpressure.py::test_a_full_queue_answers_503_at_once",
        input=f"{CLIENTS} requests for a 2 s view at once;"
        f" --threads {THREADS} --max-queue {MAX_QUEUE}",
        outcome=f"{len(served)} served (200), {len(refused)} refused at once"
        " (503, Retry-After: 1); 200 again once the load ends",
        figures={
            "slowest 503 ms": ms(slowest_503),
            "slowest 200 s": round(max(c.seconds for c in served), 2),
            "next request ms": ms(after[1]),
        },
    )
    record(
        "reactor-served-under-load",
        group="Back-pressure",
        test="test_reliability_backpressure.py::test_a_full_queue_answers_503_at_once",
        input="static file and /_twistd/live, polled while the pool is full",
        outcome="200, from the reactor thread, without waiting for the pool",
        figures={
            "requests": len(during),
            "slowest static ms": ms(slowest["/static/catalogue/style.css"]),
            "slowest live ms": ms(slowest["/_twistd/live"]),
        },
    )
