"""The nginx recipe: a real nginx on 127.0.0.1 in front of two twistd daemons.

examples/recipes/nginx, documented in docs/howto/run-behind-nginx.rst. The
test renders nginx.conf with this run's ports and paths (every production
value it replaces must be in the file), runs the distribution's nginx in the
foreground, and checks what the backends see and log through it.
"""

import http.client
import json
import os
import re
import signal
import socket
import ssl
import threading
import urllib.parse

import pytest

from support.foreground import foreground_fixture
from support.http import free_port, port_open
from support.nginx import (
    CONF,
    INSTALL,
    NGINX,
    SERVER_NAME,
    nginx_certs,
    render,
    render_conf,
)
from support.procs import wait_until
from support.recipes import RECIPES, start_recipe
from twistd_django.options import PARAMETERS

RECIPE = RECIPES / "nginx"
FORGED = "203.0.113.66"  # TEST-NET-3: no client of this test has it.
APPENDED_XFF = "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"
#: The backends on the harness's PostgreSQL: the proxied settings, and the
#: database of backupsite.settings_postgres.
PG_SETTINGS = "proxied_postgres_settings"
PG_SETTINGS_TEXT = """\
from proxied_settings import *  # noqa: F403
from backupsite.settings_postgres import DATABASES  # noqa: F401
"""


@pytest.fixture
def nginx_program():
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail(
                "nginx is not installed, and CI must run the nginx recipe's tests:"
                f" .ci/run should have installed it ({INSTALL})."
            )
        pytest.skip(f"nginx is not installed: {INSTALL}")
    return NGINX


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A throwaway CA, and nginx's certificate for the server name."""
    return nginx_certs(tmp_path_factory.mktemp("nginx-certs"))


def conf_value(name):
    """The value of a directive in nginx.conf, which must appear once."""
    found = re.findall(rf"^\s*{name}\s+([^;]+);", CONF.read_text(), re.M)
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def size_in_bytes(value):
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()
    return int(number) * units[unit]


MAX_BODY = size_in_bytes(conf_value("client_max_body_size"))


class Proxy:
    """The running nginx: its ports, its access log, HTTP and HTTPS clients."""

    def __init__(self, process, http_port, https_port, access_log, certs):
        self.process = process
        self.http_port, self.https_port = http_port, https_port
        self.access_log = access_log
        self.context = ssl.create_default_context(cafile=str(certs / "ca.pem"))

    def request(self, path, tls=True, method="GET", headers=None, body=None):
        """One request on a new connection, closed after the response."""
        if tls:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, timeout=10, context=self.context
            )
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        try:
            conn.request(
                method,
                path,
                body=body,
                headers={"Host": SERVER_NAME, "Connection": "close", **(headers or {})},
            )
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()


def start_backends(twistd, tmp_path, settings="proxied_settings", env=None):
    """Two production daemons with the proxied settings, on 127.0.0.1 only.

    ``settings`` names another module in the recipe's folder, ``env`` adds
    variables (the PostgreSQL backends, below)."""
    daemons = []
    for n in (1, 2):
        access = tmp_path / f"backend{n}.access.log"
        daemon = start_recipe(
            twistd,
            "nginx",
            [
                "django",
                f"--settings={settings}",
                "--listen=tcp:{port}:interface=127.0.0.1",
                "--trust-proxy=yes",
                f"--access-log={access}",
                f"--max-body={MAX_BODY}",
            ],
            env=env,
            start=False,
        )
        if settings == PG_SETTINGS:
            (daemon.workdir / f"{PG_SETTINGS}.py").write_text(PG_SETTINGS_TEXT)
        daemon.start()
        daemon.access_log = access
        daemons.append(daemon)
    return daemons


@pytest.fixture
def backends(twistd, tmp_path):
    """Two production daemons with the proxied settings, on 127.0.0.1 only."""
    return start_backends(twistd, tmp_path)


@pytest.fixture
def start_nginx(request, nginx_program, certs, tmp_path):
    """``start_nginx(edit=None, upstreams=None)``: render nginx.conf (``edit``
    changes the text first) for the two daemons of ``upstreams`` (default:
    the ``backends`` fixture), run nginx in the foreground, wait for its two
    ports."""
    started, start = foreground_fixture(tmp_path)

    def start_nginx(edit=None, upstreams=None):
        prefix = tmp_path / f"nginx{len(started)}"
        prefix.mkdir()
        http_port, https_port = free_port(), free_port()
        access_log = prefix / "access.log"
        b1, b2 = upstreams or request.getfixturevalue("backends")
        text = render_conf(
            prefix, certs, (b1.port, b2.port), http_port, https_port, access_log
        )
        if edit is not None:
            text = edit(text)
        conf = prefix / "nginx.conf"
        conf.write_text(text)
        process = start(
            [nginx_program, "-e", "stderr", "-p", prefix, "-c", conf]
            + ["-g", "daemon off;"],
            cwd=prefix,
            env=dict(os.environ),
            name="nginx",
        )
        up = wait_until(
            lambda: (
                not process.running()
                or (port_open(http_port) and port_open(https_port))
            ),
            10,
        )
        assert up and process.running(), f"nginx did not start:\n{process.log()}"
        return Proxy(process, http_port, https_port, access_log, certs)

    yield start_nginx
    for process in started:
        process.kill()


def access_clients(path, marker):
    """The client address of each access log line whose user agent is ``marker``."""
    if not path.exists():
        return []
    return [
        line.split(" ", 1)[0]
        for line in path.read_text().splitlines()
        if line.endswith(f'"{marker}"')
    ]


def pid_of(proxy, **kwargs):
    status, _, body = proxy.request("/status.json", **kwargs)
    assert status == 200, body
    return json.loads(body)["pid"]


def test_requests_reach_both_backends(start_nginx, backends):
    proxy = start_nginx()
    pids = [pid_of(proxy) for _ in range(20)]
    b1, b2 = backends
    assert set(pids) == {b1.pid, b2.pid}
    # Round-robin: each backend gets its share, not one or two strays.
    assert min(pids.count(b1.pid), pids.count(b2.pid)) >= 8, pids


def test_the_access_log_has_the_address_nginx_saw(start_nginx, backends):
    """A client's own X-Forwarded-For is replaced: the backend logs
    127.0.0.1, the address nginx saw, and not the forged one."""
    proxy = start_nginx()
    marker = "probe/real-client"
    for _ in range(4):  # Round-robin: two for each backend.
        status, _, _ = proxy.request(
            "/_twistd/live", headers={"X-Forwarded-For": FORGED, "User-Agent": marker}
        )
        assert status == 200

    def logged():
        return [c for b in backends for c in access_clients(b.access_log, marker)]

    assert wait_until(lambda: len(logged()) == 4, 5), logged()
    assert logged() == ["127.0.0.1"] * 4
    for backend in backends:
        assert access_clients(backend.access_log, marker) == ["127.0.0.1"] * 2
    assert wait_until(lambda: len(access_clients(proxy.access_log, marker)) >= 4, 10)
    assert access_clients(proxy.access_log, marker) == ["127.0.0.1"] * 4


def test_replaced_forwarded_for_logs_the_address_nginx_saw(start_nginx, backends):
    """With ``$remote_addr`` instead, nginx drops what the client sent: the
    log is the same."""
    proxy = start_nginx(
        edit=lambda text: render(
            text, {APPENDED_XFF: "proxy_set_header X-Forwarded-For $remote_addr;"}
        )
    )
    marker = "probe/replaced"
    status, _, _ = proxy.request(
        "/_twistd/live", headers={"X-Forwarded-For": FORGED, "User-Agent": marker}
    )
    assert status == 200

    def logged():
        return [c for b in backends for c in access_clients(b.access_log, marker)]

    assert wait_until(logged, 5)
    assert logged() == ["127.0.0.1"]


def test_django_sees_the_scheme_nginx_received(start_nginx):
    proxy = start_nginx()
    # Over HTTP, the production settings redirect to HTTPS, to the name that
    # the client asked for ($host has no port).
    status, headers, _ = proxy.request("/?q=1", tls=False)
    assert (status, headers["Location"]) == (301, f"https://{SERVER_NAME}/?q=1")
    # A client cannot claim HTTPS: nginx overwrites its X-Forwarded-Proto.
    status, _, _ = proxy.request("/", tls=False, headers={"X-Forwarded-Proto": "https"})
    assert status == 301
    # Over HTTPS, Django takes the request for secure: no redirect, and HSTS.
    status, headers, body = proxy.request("/")
    assert status == 200, body
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_only_the_allowed_host_reaches_the_site(start_nginx):
    proxy = start_nginx()
    assert proxy.request("/", headers={"Host": "evil.example"})[0] == 400
    assert proxy.request("/", headers={"Host": SERVER_NAME.upper()})[0] == 200


def test_body_limit_is_the_same_in_nginx_and_the_plugin(start_nginx, backends):
    # The plugin's default --max-body is the limit that nginx.conf sets.
    assert MAX_BODY == int(PARAMETERS["max-body"].default)

    proxy = start_nginx()
    # One byte over: nginx answers 413 from the headers, and no backend sees it.
    with socket.create_connection(("127.0.0.1", proxy.http_port), timeout=10) as sock:
        sock.sendall(
            f"POST /logs/upload/ HTTP/1.1\r\nHost: {SERVER_NAME}\r\n"
            f"Content-Length: {MAX_BODY + 1}\r\nUser-Agent: probe/too-big\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413 "), head
    # At the limit: nginx passes it on, the backend reads it all, and Django
    # answers (400: not a multipart upload).
    status, _, _ = proxy.request(
        "/logs/upload/",
        method="POST",
        body=b"x" * MAX_BODY,
        headers={"Content-Type": "text/plain", "User-Agent": "probe/at-limit"},
    )
    assert status not in (413, 502), status
    logs = [b.access_log for b in backends]
    assert wait_until(
        lambda: any(access_clients(log, "probe/at-limit") for log in logs), 5
    )
    assert not any(access_clients(log, "probe/too-big") for log in logs)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=str)
def test_stopping_a_backend_loses_no_request(start_nginx, backends, signum):
    """50 GETs in a row; after the 10th, one backend is stopped. nginx
    retries each failed GET on the other, and the client sees only 200s."""
    proxy = start_nginx()
    b1, b2 = backends
    statuses, pids = [], []
    stopper = None
    for n in range(50):
        if n == 10:
            stopper = threading.Thread(target=b1.signal, args=(signum,))
            stopper.start()
        status, _, body = proxy.request("/status.json")
        statuses.append(status)
        if status == 200:
            pids.append(json.loads(body)["pid"])
    stopper.join(timeout=5)
    assert statuses == [200] * 50
    assert wait_until(lambda: not b1.running(), 10), "backend 1 did not stop"
    assert {b1.pid, b2.pid} <= set(pids[:10])
    # Once backend 1 is gone, backend 2 answers everything.
    assert pids[-10:] == [b2.pid] * 10


# Two backends, one PostgreSQL: the set-up of a site that outgrew one
# machine, with backends on several hosts behind a load balancer.


@pytest.fixture
def pg_backends(twistd, tmp_path, postgres):
    """The two backends on this test's PostgreSQL database, as the app role."""
    daemons = start_backends(twistd, tmp_path, PG_SETTINGS, env=postgres.env())
    for daemon in daemons:
        daemon.database = postgres
    return daemons


def report(proxy, label, marker):
    """POST a snapshot report through nginx: (status, snapshot id or None)."""
    status, _, body = proxy.request(
        "/snapshots/report/",
        method="POST",
        body=urllib.parse.urlencode(
            {"host": "nginx", "label": label, "size_bytes": "1", "status": "ok"}
        ),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": marker,
        },
    )
    return status, json.loads(body)["id"] if status == 201 else None


def test_a_row_written_through_one_backend_is_read_through_the_other(
    start_nginx, pg_backends, postgres
):
    proxy = start_nginx(upstreams=pg_backends)
    label = "/srv/shared-database"
    status, snapshot = report(proxy, label, "probe/pg-write")
    assert status == 201
    assert postgres.labels(label) == {snapshot: label}
    # Round-robin: two reads, one on each backend; both see the row.
    for _ in range(2):
        status, _, body = proxy.request("/", headers={"User-Agent": "probe/pg-read"})
        assert status == 200
        assert label.encode() in body
    logs = [b.access_log for b in pg_backends]
    assert wait_until(
        lambda: sum(len(access_clients(log, "probe/pg-read")) for log in logs) == 2, 5
    )
    writer = [n for n, log in enumerate(logs) if access_clients(log, "probe/pg-write")]
    assert len(writer) == 1
    other = logs[1 - writer[0]]
    assert access_clients(other, "probe/pg-read"), "the other backend read no row"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=str)
def test_stopping_a_backend_loses_no_write(start_nginx, pg_backends, postgres, signum):
    """4 clients write through nginx, 15 reports each; after the 10th write,
    one backend is stopped. Every acknowledged write has its row; with
    SIGTERM (a drain) a write is either acknowledged or refused undone."""
    proxy = start_nginx(upstreams=pg_backends)
    b1, b2 = pg_backends
    results, lock = [], threading.Lock()
    tenth = threading.Event()

    def client(n):
        for i in range(15):
            label = f"/srv/failover-{n}-{i}"
            status, snapshot = report(proxy, label, "probe/pg-failover")
            with lock:
                results.append((status, snapshot, label))
                if len(results) == 10:
                    tenth.set()

    clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in clients:
        thread.start()
    assert tenth.wait(60)
    b1.signal(signum)
    for thread in clients:
        thread.join(120)
    assert not any(thread.is_alive() for thread in clients)
    assert wait_until(lambda: not b1.running(), 30), "backend 1 did not stop"

    acknowledged = {snapshot: label for status, snapshot, label in results if snapshot}
    rows = postgres.labels("/srv/failover-")
    assert {k: rows.get(k) for k in acknowledged} == acknowledged
    statuses = sorted(status for status, _, _ in results)
    if signum == signal.SIGTERM:
        # A drain starts no new work: a POST that nginx sends on a keep-alive
        # connection the backend is closing gets a 502, which nginx does not
        # retry (POST is not idempotent). Such a write was refused, never
        # done: no row. Every other write is acknowledged.
        refused = [label for status, _, label in results if status != 201]
        assert set(statuses) <= {201, 502, 503}, statuses
        assert not any(label in rows.values() for label in refused), refused
        assert len(rows) == 60 - len(refused)
    # Backend 2 took the writes that came after.
    assert wait_until(lambda: access_clients(b2.access_log, "probe/pg-failover"), 5)
