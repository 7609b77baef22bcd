"""Static and media files: served from the reactor, safely, with cache headers."""

import http.client
import json
import os
import socket
import stat

import pytest

from support.http import get
from support.site import prepare_site
from support.steps import PACKAGE

PRODUCTION = PACKAGE
SECRET = "SECRET_KEY = 'must never be served'"


@pytest.fixture
def static_root(tmp_path):
    """A static folder with traps in it, beside a secret it must not reveal."""
    outside = tmp_path / "project"
    outside.mkdir()
    (outside / "settings.py").write_text(SECRET)
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "site.0123456789ab.css").write_text("body { color: teal }")
    (root / "css" / "site.css").write_text("body { color: teal }")
    (root / ".env").write_text(SECRET)
    (root / "css" / ".hidden.css").write_text(SECRET)
    os.symlink(outside, root / "linked-dir")
    os.symlink(outside / "settings.py", root / "linked-file.py")
    os.symlink(root / "css" / "site.css", root / "inside-link.css")
    return root


@pytest.fixture
def daemon(twistd, static_root):
    return twistd(PRODUCTION, extra_args=["--static-root", str(static_root)])


def raw_get(port, target):
    """Send a request line as is: no client normalises the path first."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def test_files_are_served_with_cache_headers(daemon):
    hashed = get(daemon.port, "/static/css/site.0123456789ab.css")
    assert hashed.status == 200
    assert hashed.headers["Content-Type"].startswith("text/css")
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = get(daemon.port, "/static/css/site.css")
    assert plain.status == 200
    assert plain.headers["Cache-Control"] == "no-cache"
    assert get(daemon.port, "/static/inside-link.css").status == 200


@pytest.mark.parametrize(
    "target",
    [
        "/static/",
        "/static/css/",
        "/static/css",
        "/static/.env",
        "/static/css/.hidden.css",
        "/static/linked-dir/settings.py",
        "/static/linked-dir/",
        "/static/linked-file.py",
        "/static/%00",
        "/static/css/site.css%00.png",
        "/static/../project/settings.py",
        "/static/%2e%2e/project/settings.py",
        "/static/css/%2e%2e/%2e%2e/project/settings.py",
        "/static/..%2fproject%2fsettings.py",
        "/static/..%5cproject%5csettings.py",
        "/static/%2e%2e%2fproject%2fsettings.py",
    ],
)
def test_nothing_outside_the_files_is_served(daemon, target):
    status, body = raw_get(daemon.port, target)
    assert status in (301, 302, 403, 404), (status, body[:200])
    assert "must never be served" not in body
    assert "Traceback" not in body
    assert "Directory listing" not in body
    if target.startswith("/static/css") and status in (301, 302):
        return  # /static/css redirects to /static/css/, which is a 404.
    assert status in (403, 404)


def test_a_normal_request_still_works_afterwards(daemon):
    raw_get(daemon.port, "/static/%00")
    assert get(daemon.port, "/").status == 200


def test_django_urls_and_redirects_are_unchanged(daemon):
    """Django stays at / with an empty SCRIPT_NAME beside the static files."""
    response = get(daemon.port, "/admin/")
    assert response.status == 302
    assert response.headers["Location"] == "/admin/login/?next=/admin/"
    page = get(daemon.port, "/").text
    assert 'href="/static/catalogue/style.' in page


def test_media_files_are_served_from_media_root(twistd, tmp_path):
    media = tmp_path / "media"
    (media / "reports").mkdir(parents=True)
    (media / "reports" / "2026-11.txt").write_text("3 snapshots\n")
    daemon = twistd(PRODUCTION, extra_args=["--media-root", str(media)])
    response = get(daemon.port, "/media/reports/2026-11.txt")
    assert response.status == 200
    assert response.text == "3 snapshots\n"
    assert get(daemon.port, "/media/reports/").status == 404


def test_head_gets_the_same_headers_as_get(daemon):
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as sock:
        sock.sendall(
            b"HEAD /static/css/site.0123456789ab.css HTTP/1.0\r\nHost: x\r\n\r\n"
        )
        head = sock.recv(65536).decode()
    assert head.startswith("HTTP/1.0 200")
    assert "Cache-Control: public, max-age=31536000, immutable" in head


def post_file(port, path, fields, filename, content):
    """A multipart/form-data POST, as a backup agent would send it."""
    boundary = "----cookbook-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file";'
        f' filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'
    )
    body = "".join(parts).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_uploads_under_the_daemon_umask(twistd, tmp_path):
    """A daemonized twistd runs with umask 0077; Django's upload settings
    decide the modes: files 0644 (FILE_UPLOAD_PERMISSIONS), new folders 0700."""
    data = prepare_site(tmp_path / "data")  # MEDIA_ROOT is data/media.
    media = data / "media"
    daemon = twistd(PRODUCTION, data=data)
    status, body = post_file(
        daemon.port, "/logs/upload/", {"host": "db1"}, "run.log", b"ok\n"
    )
    assert status == 201
    saved = media / "logs" / "db1" / "run.log"
    assert saved.read_bytes() == b"ok\n"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o644
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert get(daemon.port, body["url"]).body == b"ok\n"
