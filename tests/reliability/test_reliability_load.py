"""Load: 50 clients write rows for 8 s; no row lost, no error, no leak."""

import threading
import time

import pytest

from support.reliability import (
    PRODUCTION,
    fds,
    post_report,
    rows,
    rss_mib,
    settles,
    threads,
)
from support.results import record
from support.site import prepare_site

CLIENTS, SECONDS = 50, 20
CASES = ["load-50-threads", "load-default-threads"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return prepare_site(tmp_path_factory.mktemp("load-data"))


def hammer(port, prefix, rss_samples, pid):
    """CLIENTS threads POST reports for SECONDS; return the statuses."""
    statuses, errors = [], []
    deadline = time.monotonic() + SECONDS

    def client(n):
        for i in range(100_000):
            if time.monotonic() >= deadline:
                return
            try:
                statuses.append(post_report(port, f"{prefix}-{n}-{i}", timeout=30))
            except Exception as error:  # noqa: BLE001 - the test reports it
                errors.append(repr(error))

    workers = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for worker in workers:
        worker.start()
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline + 35:
        rss_samples.append(rss_mib(pid))
        time.sleep(0.5)
    for worker in workers:
        worker.join(5)
    assert not any(w.is_alive() for w in workers)
    return statuses, errors


@pytest.mark.parametrize(
    "case,pool", [("load-50-threads", 50), ("load-default-threads", None)]
)
def test_writes_under_load(twistd, data, case, pool):
    extra = ["--threads", str(pool)] if pool else []
    daemon = twistd(PRODUCTION, data=data, extra_args=extra)
    pid = daemon.pid
    for i in range(20):  # Warm up: Django's lazy imports, the first queries.
        assert post_report(daemon.port, f"warm-{case}-{i}") == 201
    threads_before, fds_before = threads(pid), fds(pid)
    rss_before = rss_mib(pid)
    rss_samples = [rss_before]

    statuses, errors = hammer(daemon.port, case, rss_samples, pid)
    threads_after = settles(lambda: threads(pid), threads_before, timeout=5)
    fds_after = settles(lambda: fds(pid), fds_before, timeout=5)
    rss_after = rss_mib(pid)
    written = rows(data, case)

    assert errors == []
    assert set(statuses) == {201}
    assert written == len(statuses)
    assert threads_after == threads_before == (pool or 10) + 1
    assert fds_after <= fds_before
    assert rss_after - rss_before < 50
    daemon.stop()

    record(
        case,
        group="Load",
        test="test_reliability_load.py::test_writes_under_load",
        input=f"{CLIENTS} clients POST /snapshots/report/ for {SECONDS} s,"
        f" --threads {pool or '10 (default)'}",
        outcome="every response a 201, one row for each; threads, fds back",
        figures={
            "201s": len(statuses),
            "rows": written,
            "per s": round(len(statuses) / SECONDS),
            "threads before / after": f"{threads_before} / {threads_after}",
            "fds before / after": f"{fds_before} / {fds_after}",
            "RSS MiB before / peak / after": f"{rss_before:.0f} / "
            f"{max(rss_samples):.0f} / {rss_after:.0f}",
        },
    )
