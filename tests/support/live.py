"""The live-updates recipe for the tests: start it, make Django sessions,
and talk to its WebSocket. Every wait has a timeout; traffic stays on
127.0.0.1.

examples/recipes/live-updates builds on examples/recipes/backup-server:
both folders go on PYTHONPATH, beside the example site.
"""

import base64
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from .http import free_port, get
from .recipes import RECIPES, start_recipe
from .site import site_env
from .steps import SITE

try:
    import websockets  # noqa: F401
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect
except ImportError:  # The test module skips, and says why.
    connect = InvalidStatus = None

STATE_PATH = "/_twistd/live-updates"


def start_live(twistd, extra=(), daemonize=True, port=None, data=None, start=True):
    """Start ``twistd live-updates`` on a copy of the recipe and of the
    backup server's modules; ``port`` reuses a port (for a restart), ``data``
    is another site data directory than the session's."""
    agents = free_port()
    daemon = start_recipe(
        twistd,
        "live-updates",
        [
            "live-updates",
            "--settings=liveupdates.settings",
            "--listen=tcp:{port}:interface=127.0.0.1",
            f"--agents=tcp:{agents}:interface=127.0.0.1",
            "--threads=4",
            "--orm-threads=2",
            "--call-timeout=2",
            *extra,
        ],
        daemonize=daemonize,
        env=None if data is None else {"BACKUPSITE_DATA_DIR": str(data)},
        start=False,
    )
    backup_server = daemon.workdir.parent / "backup-server"
    shutil.copytree(
        RECIPES / "backup-server",
        backup_server,
        ignore=shutil.ignore_patterns("twisted", "__pycache__", "*.pyc"),
    )
    daemon.env["PYTHONPATH"] = os.pathsep.join(
        [str(daemon.workdir), str(backup_server), str(SITE)]
    )
    if port is not None:
        daemon.port = port
    daemon.agents_port = agents
    return daemon.start() if start else daemon


SESSIONS = """
import json, sys
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.backends.db import SessionStore

keys = {}
view = Permission.objects.get(codename="view_snapshot", content_type__app_label="catalogue")
for name, allowed, expiry in json.loads(sys.argv[1]):
    user, created = User.objects.get_or_create(username=name)
    if created:  # A new password would end the user's other sessions.
        user.set_password("password-of-" + name)
        user.save()
    if allowed:
        user.user_permissions.add(view)
    else:
        user.user_permissions.remove(view)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(expiry)
    session.create()
    keys[name] = session.session_key
print(json.dumps(keys))
"""


def make_sessions(site_data, users):
    """Create (or update) users and a logged-in session for each: ``users``
    is a list of ``(name, may_see_snapshots, expiry_seconds)``. Returns
    ``{name: session_key}``. The password of NAME is ``password-of-NAME``."""
    env = site_env(site_data)
    env["PYTHONPATH"] = str(SITE)
    env["DJANGO_SETTINGS_MODULE"] = "backupsite.settings"
    result = subprocess.run(
        [sys.executable, "-c", SESSIONS, json.dumps(users)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def password(name):
    return f"password-of-{name}"


def origin_of(daemon):
    return f"http://127.0.0.1:{daemon.port}"


def open_ws(daemon, key=None, origin="same", timeout=10, **kwargs):
    """A websockets client on ``/live/``, with ``key`` as the session cookie."""
    headers = {"Cookie": f"sessionid={key}"} if key else {}
    return connect(
        f"ws://127.0.0.1:{daemon.port}/live/",
        origin=origin_of(daemon) if origin == "same" else origin,
        additional_headers=headers,
        open_timeout=timeout,
        close_timeout=5,
        compression=None,
        **kwargs,
    )


def refused_status(daemon, key=None, origin="same"):
    """The HTTP status that refuses a handshake, and its body; fails if the
    WebSocket opens."""
    try:
        ws = open_ws(daemon, key, origin)
    except InvalidStatus as error:
        return error.response.status_code, bytes(error.response.body).decode()
    ws.close()
    raise AssertionError("the WebSocket opened")


def next_message(ws, timeout=5):
    return json.loads(ws.recv(timeout=timeout))


def state(daemon):
    response = get(daemon.port, STATE_PATH)
    assert response.status == 200, response.text
    return json.loads(response.body)


def rss_kib(pid):
    """The resident memory of ``pid``, in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)[1])


class RawWebSocket:
    """A WebSocket client on a bare socket, which reads nothing once the
    handshake is done: a slow consumer. ``receive_buffer`` sets SO_RCVBUF
    before it connects."""

    def __init__(self, daemon, key, receive_buffer=4096, timeout=10):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", daemon.port))
        nonce = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /live/ HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {nonce}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {origin_of(daemon)}\r\nCookie: sessionid={key}\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)  # Byte by byte: leave the frames unread.
            if not chunk:
                raise ConnectionError(f"closed during the handshake: {head!r}")
            head += chunk
        assert head.startswith(b"HTTP/1.1 101 "), head

    def is_reset(self, timeout=10):
        """Read all that is left; True if the server cut the connection off
        (a reset, or its end) within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.5)
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(65536):
                    return True
            except TimeoutError:
                continue
            except ConnectionResetError:
                return True
        return False

    def close(self):
        self.sock.close()


class Browserless:
    """Log in through the login form with an HTTP client, as a browser would,
    and log out: for the tests that need Django's own login and logout."""

    def __init__(self, daemon):
        self.base = origin_of(daemon)
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def cookie(self, name):
        return next((c.value for c in self.cookies if c.name == name), None)

    def post(self, path, fields):
        fields = {**fields, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        data = urllib.parse.urlencode(fields).encode()
        with self.opener.open(self.base + path, data=data, timeout=10) as response:
            return response.status, response.read().decode()

    def log_in(self, name):
        with self.opener.open(self.base + "/accounts/login/", timeout=10) as page:
            assert page.status == 200
        status, body = self.post(
            "/accounts/login/", {"username": name, "password": password(name)}
        )
        assert status == 200 and self.cookie("sessionid"), body
        return self.cookie("sessionid")

    def log_out(self):
        return self.post("/accounts/logout/", {})[0]
