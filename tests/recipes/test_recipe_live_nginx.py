"""The live-updates recipe behind a real nginx: the WebSocket at /live/ goes
through the nginx recipe's nginx.conf (Upgrade and Connection headers, read
timeout), over TLS, to the daemon on 127.0.0.1.

The test renders nginx.conf with this run's ports and paths, as
test_recipe_nginx.py does, with both upstream servers on the one
live-updates daemon.
"""

import os
import re
import socket
import ssl
import time

import pytest

from support.foreground import foreground_fixture
from support.http import free_port, port_open
from support.nginx import CONF, INSTALL, NGINX, SERVER_NAME, nginx_certs, render_conf
from support.procs import wait_until
from support.recipes import RECIPES, LineClient

pytest.importorskip("websockets", reason="pip install websockets (the test extra)")
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from support.live import make_sessions, start_live  # noqa: E402


def live_location():
    """The text of nginx.conf's ``location /live/`` block."""
    found = re.search(r"location /live/ \{(.*?)\n        \}", CONF.read_text(), re.S)
    assert found, "nginx.conf has no location /live/"
    return found[1]


def test_the_read_timeout_outlasts_the_daemons_pings():
    block = live_location()
    for header in (
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
    ):
        assert header in block
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", block)[1])
    options = (RECIPES / "live-updates" / "liveupdates" / "options.py").read_text()
    ping = float(
        re.search(r'"live-ping": Parameter\(\s*None,\s*"([\d.]+)"', options)[1]
    )
    assert read_timeout > 2 * ping, (read_timeout, ping)


@pytest.fixture
def certs(tmp_path):
    return nginx_certs(tmp_path / "certs")


@pytest.fixture
def nginx(certs, tmp_path):
    """``nginx(backend_port, edit=None)``: nginx.conf rendered for this run,
    in the foreground; returns its HTTPS port."""
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail(f"nginx is not installed, and CI needs it ({INSTALL})")
        pytest.skip(f"nginx is not installed: {INSTALL}")
    started, start = foreground_fixture(tmp_path)

    def run(backend_port, edit=None):
        prefix = tmp_path / f"nginx{len(started)}"
        prefix.mkdir()
        http_port, https_port = free_port(), free_port()
        text = render_conf(
            prefix,
            certs,
            (backend_port, backend_port),
            http_port,
            https_port,
            prefix / "access.log",
        )
        if edit is not None:
            text = edit(text)
        conf = prefix / "nginx.conf"
        conf.write_text(text)
        process = start(
            [NGINX, "-e", "stderr", "-p", prefix, "-c", conf, "-g", "daemon off;"],
            cwd=prefix,
            env=dict(os.environ),
            name="nginx",
        )
        up = wait_until(lambda: not process.running() or port_open(https_port), 10)
        assert up and process.running(), f"nginx did not start:\n{process.log()}"
        return https_port

    yield run
    for process in started:
        process.kill()


def through_nginx(https_port, certs, key, origin=f"https://{SERVER_NAME}"):
    """A WebSocket to wss://backup.example.com/live/, on nginx's port."""
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    sock = socket.create_connection(("127.0.0.1", https_port), timeout=10)
    return connect(
        f"wss://{SERVER_NAME}/live/",
        sock=sock,
        ssl=context,
        server_hostname=SERVER_NAME,
        origin=origin,
        additional_headers={"Cookie": f"sessionid={key}"},
        compression=None,
        open_timeout=10,
        ping_interval=None,
    )


def report(daemon, label):
    with LineClient(daemon.agents_port) as agent:
        assert agent.ask("HELLO proxied").startswith("OK")
        answer = agent.ask(f"REPORT ok 1024 {label}", timeout=20)
    return int(answer.split()[1])


def proxied_daemon(twistd, ping):
    return start_live(
        twistd,
        ["--settings=liveupdates.settings_proxied", f"--live-ping={ping}"],
    )


def test_the_websocket_goes_through_nginx(twistd, site_data, nginx, certs):
    key = make_sessions(site_data, [("proxied", True, 3600)])["proxied"]
    daemon = proxied_daemon(twistd, ping=20)
    https_port = nginx(daemon.port)
    with through_nginx(https_port, certs, key) as ws:
        snapshot_id = report(daemon, "/srv/through-nginx")
        message = ws.recv(timeout=5)
        assert f'"id":{snapshot_id},' in message and "/srv/through-nginx" in message
    # The daemon checks the Origin with the scheme that nginx reports.
    for origin in ("https://evil.example", f"http://{SERVER_NAME}"):
        with pytest.raises(InvalidStatus) as refused:
            through_nginx(https_port, certs, key, origin=origin)
        assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as refused:
        through_nginx(https_port, certs, "not-a-session")
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("ping", [1, 600], ids=["pinged", "silent"])
def test_pings_keep_a_quiet_websocket_open_past_nginx_read_timeout(
    twistd, site_data, nginx, certs, ping
):
    """With a read timeout of 3 s: the daemon's pings every second keep the
    connection; without them nginx closes it."""
    key = make_sessions(site_data, [("quiet", True, 3600)])["quiet"]
    daemon = proxied_daemon(twistd, ping=ping)
    https_port = nginx(
        daemon.port,
        edit=lambda text: text.replace(
            "proxy_read_timeout 75s;", "proxy_read_timeout 3s;"
        ),
    )
    with through_nginx(https_port, certs, key) as ws:
        opened = time.monotonic()
        try:
            ws.recv(timeout=5)
        except TimeoutError:
            closed = None  # Still open after 5 s of silence.
        except ConnectionClosed:
            closed = time.monotonic() - opened
        if ping == 1:
            assert closed is None
            snapshot_id = report(daemon, "/srv/after-the-silence")
            assert f'"id":{snapshot_id},' in ws.recv(timeout=5)
        else:
            assert closed is not None and 2.5 < closed < 5
