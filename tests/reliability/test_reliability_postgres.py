"""Load on PostgreSQL: 50 clients write for 20 s through both thread pools.

The backup-server recipe serves the example site and a Twisted line
protocol from one daemon: 40 HTTP clients POST snapshot reports (Django
views, in the WSGI threads) and 10 backup agents REPORT over the protocol
(ORM work, in the recipe's ORM threads). The daemon connects to the
harness's PostgreSQL as the app role (support/postgres.py). Every write
that was acknowledged must have its row, nothing may fail, and the server's
connections must stay within the threads that may hold one: per thread
without a pool, the pool's maximum with one. Both sides are sampled every
50 ms: the server's (pg_stat_activity) and the daemon's (its sockets).
docs/howto/use-postgresql.rst quotes these figures.
"""

import contextlib
import json
import re
import threading
import time
import urllib.parse

import pytest

from support.http import free_port
from support.postgres import APP, unix_connections
from support.recipes import LineClient, start_recipe
from support.results import record

GROUP = "Load"
THREADS, ORM_THREADS = 10, 2
HTTP_CLIENTS, AGENTS = 40, 10
POOL_MIN, POOL_MAX = 2, 4
POOL = {"BACKUPSITE_DB_POOL": f"{POOL_MIN}:{POOL_MAX}"}
#: Mode: (variables, seconds of load, daemonized). The default,
#: CONN_MAX_AGE = 0, gets the full 20 s; the other two show how the count
#: differs. The pool runs in the foreground until the start-up check closes
#: it before the fork (test_a_pool_survives_daemonizing).
MODES = {
    "close": ({}, 20, True),
    "persistent": ({"BACKUPSITE_DB_CONN_MAX_AGE": "60"}, 10, True),
    "pool": (POOL, 10, True),
}
CASES = [f"postgres-load-{mode}" for mode in MODES]
SETTINGS = """\
from backupserver.settings import *  # noqa: F403
from backupsite.settings_postgres import DATABASES  # noqa: F401
"""


def start_backup_server(twistd, postgres, env, daemonize=True):
    agents = free_port()
    daemon = start_recipe(
        twistd,
        "backup-server",
        [
            "backup-server",
            "--settings=pg_settings",
            "--listen=tcp:{port}:interface=127.0.0.1",
            f"--agents=tcp:{agents}:interface=127.0.0.1",
            f"--threads={THREADS}",
            f"--orm-threads={ORM_THREADS}",
        ],
        env={**postgres.env(), **env},
        daemonize=daemonize,
        start=False,
    )
    (daemon.workdir / "pg_settings.py").write_text(SETTINGS)
    daemon.start()
    daemon.agents_port = agents
    return daemon


class Sampler(threading.Thread):
    """Every 50 ms, count the app role's connections on the server
    (pg_stat_activity, on one connection) and the ones the daemon holds
    (its connected Unix sockets, from /proc: it has no other)."""

    def __init__(self, postgres, pid):
        super().__init__(daemon=True)
        self.postgres, self.pid = postgres, pid
        self.samples, self.held = [], []
        self.done = threading.Event()

    def run(self):
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND usename = %s AND backend_type = 'client backend'"
        )
        with contextlib.closing(self.postgres.server.connect()) as conn:
            while not self.done.wait(0.05):
                (count,) = conn.execute(query, (self.postgres.name, APP)).fetchone()
                self.samples.append(count)
                self.held.append(unix_connections(self.pid))


def write_for(daemon, prefix, seconds):
    """The clients: {snapshot id: label} of each write acknowledged, and the
    errors."""
    written, errors = {}, []
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def acknowledged(snapshot, label):
        with lock:
            written[snapshot] = label

    def http_client(n):
        import http.client

        for i in range(1_000_000):
            if time.monotonic() >= deadline:
                return
            label = f"{prefix}-http{n}-{i}"
            body = urllib.parse.urlencode(
                {"host": f"web{n}", "label": label, "size_bytes": "1", "status": "ok"}
            )
            conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
            try:
                conn.request(
                    "POST",
                    "/snapshots/report/",
                    body=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                response = conn.getresponse()
                data = response.read()
                if response.status == 201:
                    acknowledged(json.loads(data)["id"], label)
                else:
                    errors.append(f"HTTP {response.status}: {data[:200]!r}")
            except Exception as error:  # noqa: BLE001 - the test reports it
                errors.append(f"HTTP client {n}: {error!r}")
            finally:
                conn.close()

    def agent(n):
        try:
            with LineClient(daemon.agents_port, timeout=30) as line:
                assert line.ask(f"HELLO agent{n}", timeout=30) == f"OK hello agent{n}"
                for i in range(1_000_000):
                    if time.monotonic() >= deadline:
                        return
                    label = f"{prefix}-agent{n}-{i}"
                    answer = line.ask(f"REPORT ok 1 {label}", timeout=30)
                    found = re.fullmatch(r"OK (\d+)", answer)
                    if found:
                        acknowledged(int(found.group(1)), label)
                    else:
                        errors.append(f"agent {n}: {answer}")
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(f"agent {n}: {error!r}")

    workers = [
        threading.Thread(target=http_client, args=(n,)) for n in range(HTTP_CLIENTS)
    ]
    workers += [threading.Thread(target=agent, args=(n,)) for n in range(AGENTS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 60)  # Bounded: a client waits 30 s at most.
    assert not any(w.is_alive() for w in workers), "a client never finished"
    return written, errors


@pytest.mark.parametrize("mode", MODES)
def test_writes_on_postgresql_under_load(twistd, postgres, mode):
    env, seconds, daemonize = MODES[mode]
    pooled = "BACKUPSITE_DB_POOL" in env
    bound = POOL_MAX if pooled else THREADS + ORM_THREADS
    daemon = start_backup_server(twistd, postgres, env, daemonize)
    prefix = f"pgload-{mode}"
    sampler = Sampler(postgres, daemon.pid)
    sampler.start()
    try:
        written, errors = write_for(daemon, prefix, seconds)
    finally:
        sampler.done.set()
        sampler.join(10)
    peak, held = max(sampler.samples), max(sampler.held)
    over = sum(1 for count in sampler.samples if count > bound)
    # Afterwards: without a pool or kept connections, every connection goes
    # when its request or job ends; kept ones stay, within the same bound.
    target = 0 if mode == "close" else bound
    after = postgres.settles(target, timeout=15)
    rows = postgres.labels(prefix)

    assert errors == []
    assert written, "no write was acknowledged"
    assert {k: rows.get(k) for k in written} == written  # Every 201 has its row.
    assert len(rows) == len(written)
    # What the daemon holds never passes the bound.
    assert 0 < held <= bound, (held, bound)
    if mode == "close":
        # The server may list one more for an instant: with a new connection
        # for each request, the server process of the one just closed can
        # still be exiting (seen once in a loaded run: 13 for 12). A leak
        # would stay, and show in most samples: the pool is saturated.
        assert over <= len(sampler.samples) // 100, (over, len(sampler.samples))
    else:
        assert 0 < peak <= bound, (peak, bound)
    assert after <= target
    if mode == "close":
        assert after == 0
    log = daemon.log()
    assert "Traceback" not in log, log[-3000:]
    daemon.stop()
    record(
        f"postgres-load-{mode}",
        group=GROUP,
        test="test_reliability_postgres.py::test_writes_on_postgresql_under_load",
        input=f"{HTTP_CLIENTS} HTTP clients and {AGENTS} agents write for"
        f" {seconds} s, on PostgreSQL as a role without CREATE,"
        f" {THREADS} WSGI and {ORM_THREADS} ORM threads, "
        + {
            "close": "CONN_MAX_AGE = 0",
            "persistent": "CONN_MAX_AGE = 60",
            "pool": f"psycopg pool of {POOL_MIN} to {POOL_MAX}",
        }[mode],
        outcome="every acknowledged write has its row, no error; connections"
        + {
            "close": " at most WSGI + ORM threads, all closed afterwards",
            "persistent": " at most WSGI + ORM threads, kept afterwards",
            "pool": " at most the pool's maximum",
        }[mode],
        figures={
            "writes": len(written),
            "writes/s": round(len(written) / seconds),
            "peak connections": peak,
            "peak held by the daemon": held,
            "samples over the bound": over,
            "connections after": after,
            "bound": bound,
        },
    )


def test_a_pool_survives_daemonizing(twistd, postgres):
    daemon = start_backup_server(twistd, postgres, POOL, daemonize=True)
    written, errors = write_for(daemon, "pgpool-daemon", 1)
    assert errors == [] and written
    assert postgres.connections() <= POOL_MAX
