"""PEP 3333, checked by wsgiref.validate, through the package in a real twistd.

The first tests serve a plain WSGI application (support/pep3333_app.py),
wrapped in ``wsgiref.validate.validator``, through the package's own pieces
(support/pep3333.tac), and send it what a server meets: GET, HEAD, a query
string, a form, a 2 MB upload, streams, a stream that fails, a client that
leaves. The validator must raise nothing, and every body must be closed.
The same application under Twisted's own ``WSGIResource`` fails both checks:
``test_the_validator_passes_the_package_and_fails_twisted``.

The last test serves the example Django site with ``twistd django``: after a
stream that fails, the daemon holds no more file descriptors on the SQLite
database than before, because Django's ``request_finished`` closed the
request's connection.
"""

import hashlib
import http.client
import json
import os
import socket
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from support.daemon import Twistd
from support.http import cut_off as cut_off_body
from support.procs import wait_until
from support.steps import PACKAGE

TESTS = Path(__file__).resolve().parents[1]
TAC = TESTS / "support" / "pep3333.tac"
TIMEOUT = 5  # Seconds, for every connection, read and wait.


@dataclass
class Served:
    """A twistd serving the validated application, and its records."""

    daemon: Twistd
    records: Path

    def connect(self):
        return http.client.HTTPConnection(
            "127.0.0.1", self.daemon.port, timeout=TIMEOUT
        )

    def request(self, method, path, body=None, headers=None):
        conn = self.connect()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def read(self, name):
        path = self.records / name
        return [json.loads(line) for line in path.read_text().splitlines()]

    def problems(self):
        """What the validator (or anything else) raised. Runs the daemon's
        garbage collector first, so that a body dropped without close() is
        reported now."""
        assert self.request("GET", "/collect")[0] == 200
        return self.read("problems.jsonl")

    def events(self, event):
        return [e for e in self.read("events.jsonl") if e["event"] == event]

    def unclosed(self):
        """The requests whose body the server has not closed (yet)."""
        calls = Counter(e["id"] for e in self.events("call"))
        closes = Counter(e["id"] for e in self.events("close"))
        return sorted((calls - closes).elements())

    def closed(self, tag):
        return any(e["tag"] == tag for e in self.events("close"))


@pytest.fixture
def serve(tmp_path):
    """``serve()`` starts support/pep3333.tac in a twistd daemon;
    ``serve("twisted")`` with Twisted's WSGIResource instead of the
    package's. Every daemon is killed at teardown."""
    daemons = []

    def start(resource="package"):
        workdir = tmp_path / f"pep3333-{resource}-{len(daemons)}"
        workdir.mkdir()
        records = workdir / "records"
        env = {
            "PYTHONPATH": str(TESTS),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PEP3333_LISTEN": "tcp:{port}:interface=127.0.0.1",
            "PEP3333_RECORDS": str(records),
            "PEP3333_RESOURCE": resource,
        }
        daemon = Twistd(workdir=workdir, args=["-y", str(TAC)], env=env)
        daemons.append(daemon)
        daemon.start()
        return Served(daemon, records)

    yield start
    for daemon in daemons:
        daemon.kill()


def assert_pep3333_kept(served):
    """Every body was closed, the validator raised nothing, and nothing in
    the twistd log says otherwise."""
    assert wait_until(lambda: not served.unclosed(), TIMEOUT), served.unclosed()
    assert served.problems() == []
    log = served.daemon.log()
    assert "AssertionError" not in log, log
    assert "Traceback" not in log, log


def post_form(served, path, fields):
    body = urlencode(fields).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return served.request("POST", path, body, headers)


def cut_off(served, path):
    """GET ``path``: a 200 whose body the server cuts off. Returns the part
    that came."""
    return cut_off_body(served.connect(), path)


def test_get_and_head(serve):
    served = serve()
    conn = served.connect()
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.read() == b"hello\n"
        conn.request("HEAD", "/")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b""
        # On the same connection: no body came after the HEAD response.
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"hello\n"
    finally:
        conn.close()
    assert wait_until(lambda: "pep3333: hello" in served.daemon.log(), TIMEOUT)
    assert_pep3333_kept(served)


def test_a_query_string(serve):
    served = serve()
    status, _, body = served.request("GET", "/query?a=1&b=two%20words&a=3&empty=")
    assert status == 200
    assert json.loads(body) == {
        "query_string": "a=1&b=two%20words&a=3&empty=",
        "fields": {"a": ["1", "3"], "b": ["two words"]},
    }
    assert_pep3333_kept(served)


def test_a_form_post(serve):
    served = serve()
    fields = {"host": "db-1", "label": "nightly & weekly", "size": "1234"}
    status, _, body = post_form(served, "/form", fields)
    assert status == 200
    assert json.loads(body) == {
        "content_type": "application/x-www-form-urlencoded",
        "content_length": str(len(urlencode(fields))),
        "fields": {name: [value] for name, value in fields.items()},
    }
    assert_pep3333_kept(served)


def test_a_2mb_multipart_upload_arrives_byte_for_byte(serve):
    served = serve()
    payload = os.urandom(2 * 1024 * 1024)
    boundary = "pep3333-" + os.urandom(12).hex()
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="host"\r\n\r\n',
            b"db-1\r\n",
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="file"; filename="dump.bin"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n",
            payload,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, _, answer = served.request("POST", "/upload", body, headers)
    assert status == 200
    answer = json.loads(answer)
    assert answer["body_length"] == len(body)
    assert answer["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert answer["parts"]["file"] == {
        "filename": "dump.bin",
        "length": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    assert answer["parts"]["host"]["sha256"] == hashlib.sha256(b"db-1").hexdigest()
    assert_pep3333_kept(served)


def test_a_streaming_response(serve):
    served = serve()
    conn = served.connect()
    try:
        conn.request("GET", "/stream?chunks=4&delay=0.05")
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert response.read() == b"chunk 0\nchunk 1\nchunk 2\nchunk 3\ndone\n"
    finally:
        conn.close()
    assert served.events("ended")[-1]["sent"] == 4
    assert_pep3333_kept(served)


def test_a_stream_that_fails_is_cut_off_and_closed(serve):
    served = serve()
    partial = cut_off(served, "/stream?chunks=5&fail_after=2&tag=fails")
    assert partial == b"chunk 0\nchunk 1\n"
    assert wait_until(lambda: served.closed("fails"), TIMEOUT)
    assert served.request("GET", "/")[2] == b"hello\n"  # Still serving.
    log = served.daemon.log()
    assert "pep3333: deliberate failure after 2" in log
    assert "WSGI application error" in log
    # The traceback of the deliberate failure is in the log, as it should be:
    # check the rest of the log without it.
    assert wait_until(lambda: not served.unclosed(), TIMEOUT), served.unclosed()
    assert served.problems() == []
    assert "AssertionError" not in served.daemon.log()


def test_a_client_that_leaves_mid_stream(serve):
    served = serve()
    with socket.create_connection(("127.0.0.1", served.daemon.port), TIMEOUT) as sock:
        sock.sendall(
            b"GET /stream?chunks=1000&delay=0.02&tag=leaves HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\n\r\n"
        )
        received = b""
        while b"chunk 2\n" not in received:
            data = sock.recv(4096)
            assert data, f"the stream ended early: {received!r}"
            received += data
    # The server notices at its next write, stops iterating and closes.
    assert wait_until(lambda: served.closed("leaves"), TIMEOUT)
    assert served.events("ended")[-1]["sent"] < 1000
    assert served.request("GET", "/")[2] == b"hello\n"  # Still serving.
    assert_pep3333_kept(served)


@pytest.mark.parametrize("resource", ["package", "twisted"])
def test_the_validator_passes_the_package_and_fails_twisted(serve, resource):
    """The same requests, the same application: the package passes; under
    Twisted's own WSGIResource the validator rejects HTTP_CONTENT_TYPE in the
    environ, and finds a failed stream's body never closed."""
    served = serve(resource)
    status, _, _ = post_form(served, "/form", {"a": "1"})
    assert cut_off(served, "/stream?chunks=5&fail_after=2&tag=fails")
    if resource == "package":
        assert status == 200
        assert wait_until(lambda: served.closed("fails"), TIMEOUT)
        assert served.problems() == []
        assert "AssertionError" not in served.daemon.log()
        return
    assert status == 500

    def both_reported():
        found = {(p["where"], p["type"], p["error"]) for p in served.problems()}
        return {
            (
                "call",
                "AssertionError",
                "Environment should not have the key: HTTP_CONTENT_TYPE"
                " (use CONTENT_TYPE instead)",
            ),
            (
                "unraisable",
                "AssertionError",
                "Iterator garbage collected without being closed",
            ),
        } <= found

    assert wait_until(both_reported, TIMEOUT), served.problems()
    assert not served.closed("fails")
    assert "AssertionError" in served.daemon.log()


# The example Django site, through `twistd django`.

# The example site, with each view in a transaction: a request's database
# connection then opens before its response and stays open, as Django keeps
# it per thread, until request_finished (CONN_MAX_AGE is 0) closes it.
ATOMIC_SETTINGS = """\
from backupsite.settings import *  # noqa: F403
from backupsite.settings import DATABASES

DATABASES["default"]["ATOMIC_REQUESTS"] = True
"""


def database_fds(pid, database):
    """What the file descriptors of ``pid`` open on the SQLite ``database``
    (the file, its -wal and -shm): a Counter of paths."""
    found = Counter()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # Closed in the meantime.
            continue
        if target.startswith(str(database)):
            found[target] += 1
    return found


def test_a_failing_stream_gives_back_its_database_connection(twistd, site_data):
    daemon = twistd(PACKAGE, start=False)
    (daemon.workdir / "atomic_settings.py").write_text(ATOMIC_SETTINGS)
    daemon.args = [
        "atomic_settings" if arg == "backupsite.settings" else arg
        for arg in daemon.args
    ]
    assert "atomic_settings" in daemon.args
    daemon.start()
    database = (site_data / "db.sqlite3").resolve()
    assert database.is_file()
    before = database_fds(daemon.pid, database)

    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/stream/?chunks=5&delay=0.5&fail_after=3")
        response = conn.getresponse()
        assert response.status == 200
        assert response.readline() == b"chunk 0\n"
        # Mid-stream, the request's connection is open: else this test
        # would show nothing.
        assert wait_until(
            lambda: (
                database_fds(daemon.pid, database)[str(database)]
                > before[str(database)]
            ),
            TIMEOUT,
        ), database_fds(daemon.pid, database)
        with pytest.raises(http.client.IncompleteRead) as error:
            response.read()
    finally:
        conn.close()
    assert error.value.partial == b"chunk 1\nchunk 2\n"

    assert wait_until(lambda: database_fds(daemon.pid, database) == before, TIMEOUT), (
        f"before: {before}, now: {database_fds(daemon.pid, database)}"
    )
    log = daemon.log()
    assert "stream: deliberate failure after 3 chunks" in log
    assert "WSGI application error" in log
    # Still serving, and no connection left behind by that either.
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/plain/")
        assert conn.getresponse().read() == b"ok\n"
    finally:
        conn.close()
    assert wait_until(lambda: database_fds(daemon.pid, database) == before, TIMEOUT)
