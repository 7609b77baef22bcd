"""The limits over HTTP/2, through the TLS recipe (examples/recipes/tls):
``--max-body``, the head deadline and the body deadline hold per stream, as
over HTTP/1.1. The clients are real: httpx with ``http2=True``, and raw TLS
connections that speak h2 through the h2 library."""

import importlib.util
import os
import socket
import ssl
import time

import pytest

from support.results import record
from support.tls import start_tls, throwaway_ca

GROUP = "Slow clients"
CASES = [
    "h2-body-over-limit",
    "tls-refusals-in-a-row",
    "h2-trickling-headers",
    "h2-trickling-body",
]
MAX_BODY = 100_000
HEAD_TIMEOUT = 3.0
BODY_TIMEOUT = 3.0
TRICKLERS = 10
REFUSALS = 20  # One in three was cut off when TCP half-closed under TLS.
MISSING = [
    name
    for name in ("httpx", "h2", "OpenSSL", "service_identity")
    if importlib.util.find_spec(name) is None
]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if MISSING:
        message = f"needs httpx[http2] and twisted[tls,http2]: missing {MISSING}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run the HTTP/2 tests)")
        pytest.skip(message)
    directory = tmp_path_factory.mktemp("h2-certs")
    return throwaway_ca(directory)


@pytest.fixture
def daemon(twistd, certs):
    return start_tls(
        twistd,
        certs,
        f"--max-body={MAX_BODY}",
        f"--head-timeout={HEAD_TIMEOUT}",
        f"--body-timeout={BODY_TIMEOUT}",
    )


def context(certs, alpn=("h2",)):
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    ctx.set_alpn_protocols(list(alpn))
    return ctx


def client(certs, http2=True):
    import httpx

    return httpx.Client(
        http1=not http2,
        http2=http2,
        verify=ssl.create_default_context(cafile=str(certs / "ca.pem")),
        timeout=20,
    )


def url(daemon, path):
    return f"https://localhost:{daemon.port}{path}"


class RawH2:
    """An h2 connection over TLS whose bytes the test sends when it likes."""

    def __init__(self, port, certs):
        import h2.config
        import h2.connection

        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = context(certs).wrap_socket(raw, server_hostname="localhost")
        assert self.sock.selected_alpn_protocol() == "h2"
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.opened = time.monotonic()
        self.closed_after = None
        self.events = []

    def headers(self, method=b"GET", path=b"/plain/", length=None, end=True):
        headers = [
            (b":method", method),
            (b":path", path),
            (b":scheme", b"https"),
            (b":authority", b"localhost"),
        ]
        if length is not None:
            headers.append((b"content-length", b"%d" % length))
        stream = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream, headers, end_stream=end)
        return stream

    def pending(self):
        return self.conn.data_to_send()

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.gone()

    def poll(self):
        """Read what came, without waiting; note when the server closed."""
        if self.closed_after is not None:
            return
        self.sock.settimeout(0.01)
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, ssl.SSLWantReadError):
            return
        except OSError:
            data = b""
        if not data:
            self.gone()
            return
        self.events += self.conn.receive_data(data)
        acks = self.conn.data_to_send()
        if acks:
            self.send(acks)

    def gone(self):
        if self.closed_after is None:
            self.closed_after = time.monotonic() - self.opened

    def close(self):
        self.sock.close()


def test_a_body_over_the_limit_gets_413_over_h2_and_normal_requests_work(daemon, certs):
    body = b"x" * 200_000
    with client(certs) as h2:
        refused = h2.post(url(daemon, "/snapshots/report/"), content=body)
        normal = h2.get(url(daemon, "/status.json"))
    with client(certs, http2=False) as h1:
        refused_h1 = h1.post(url(daemon, "/snapshots/report/"), content=body)
    assert refused.http_version == "HTTP/2"
    assert refused.status_code == 413, refused.text
    assert refused.text == f"Request body over the limit of {MAX_BODY} bytes.\n"
    assert (normal.http_version, normal.status_code) == ("HTTP/2", 200)
    assert normal.json()["pid"] == daemon.pid
    assert (refused_h1.http_version, refused_h1.status_code) == ("HTTP/1.1", 413)
    assert "Refused an HTTP/2 request body of 200000 bytes" in daemon.log()
    record(
        "h2-body-over-limit",
        group=GROUP,
        test="test_reliability_http2.py::"
        "test_a_body_over_the_limit_gets_413_over_h2_and_normal_requests_work",
        input=f"a 200 KB POST over HTTP/2 (httpx), --max-body {MAX_BODY}, TLS recipe",
        outcome="413 on its stream (then RST_STREAM NO_ERROR), as over HTTP/1.1;"
        " a normal HTTP/2 request on the same daemon gets its 200",
        figures={
            "h2 status": refused.status_code,
            "HTTP/1.1 status": refused_h1.status_code,
            "normal h2 status": normal.status_code,
        },
    )


def test_each_http11_refusal_over_tls_reaches_the_client(daemon, certs):
    import httpx

    body = b"x" * 200_000
    outcomes = []
    for _ in range(REFUSALS):
        with client(certs, http2=False) as h1:
            try:
                answer = h1.post(url(daemon, "/snapshots/report/"), content=body)
                outcomes.append(answer.status_code)
            except httpx.HTTPError as error:  # The answer was cut off.
                outcomes.append(repr(error))
    assert outcomes == [413] * REFUSALS
    assert "Unhandled Error" not in daemon.log()
    record(
        "tls-refusals-in-a-row",
        group="Bad input",
        test="test_reliability_http2.py::"
        "test_each_http11_refusal_over_tls_reaches_the_client",
        input=f"{REFUSALS} POSTs of 200 KB over HTTP/1.1 and TLS (httpx), one a"
        f" connection, --max-body {MAX_BODY}",
        outcome="each gets its 413, then TLS close_notify while the server reads"
        " and drops the rest of the body; no error in the twistd log",
        figures={"413 answers": outcomes.count(413)},
    )


def test_h2_connections_that_trickle_their_headers_are_closed(daemon, certs):
    clients = [RawH2(daemon.port, certs) for _ in range(TRICKLERS)]
    try:
        frames = []
        for c in clients:
            c.headers()
            frames.append(c.pending())  # Preface, SETTINGS and a HEADERS frame.
        deadline = time.monotonic() + HEAD_TIMEOUT + 5
        sent = 0
        while time.monotonic() < deadline:
            for c, frame in zip(clients, frames, strict=True):
                if c.closed_after is None and sent < len(frame) - 1:
                    c.send(frame[sent : sent + 1])  # Never the last byte.
                c.poll()
            sent += 1
            if all(c.closed_after is not None for c in clients):
                break
            time.sleep(0.25)
        times = [c.closed_after for c in clients]
    finally:
        for c in clients:
            c.close()
    assert None not in times, f"{times.count(None)} h2 connections still open"
    assert HEAD_TIMEOUT - 0.5 <= min(times) and max(times) <= HEAD_TIMEOUT + 2.5
    with client(certs) as h2:
        assert h2.get(url(daemon, "/plain/")).status_code == 200
    record(
        "h2-trickling-headers",
        group=GROUP,
        test="test_reliability_http2.py::"
        "test_h2_connections_that_trickle_their_headers_are_closed",
        input=f"{TRICKLERS} HTTP/2 connections sending their HEADERS frame a byte"
        f" every 0.25 s, --head-timeout {HEAD_TIMEOUT:g}",
        outcome="each closed (GOAWAY) at the head deadline; h2 requests served",
        figures={"closed after s (max)": round(max(times), 2)},
    )


def test_an_h2_body_trickled_a_byte_a_second_gets_408(daemon, certs):
    c = RawH2(daemon.port, certs)
    try:
        stream = c.headers(
            method=b"POST", path=b"/snapshots/report/", length=100, end=False
        )
        c.send(c.pending())
        started = time.monotonic()
        status = None
        while time.monotonic() - started < BODY_TIMEOUT * 4 and status is None:
            c.conn.send_data(stream, b"x")
            c.send(c.pending())
            time.sleep(1)
            c.poll()
            for event in c.events:
                headers = dict(getattr(event, "headers", None) or [])
                if b":status" in headers:
                    status = int(headers[b":status"])
        answered_after = time.monotonic() - started
        still_open = c.closed_after is None
    finally:
        c.close()
    assert status == 408
    assert still_open  # Only the stream is reset; the connection serves on.
    record(
        "h2-trickling-body",
        group=GROUP,
        test="test_reliability_http2.py::"
        "test_an_h2_body_trickled_a_byte_a_second_gets_408",
        input=f"an HTTP/2 POST body sent a byte a second,"
        f" --body-timeout {BODY_TIMEOUT:g}",
        outcome="408 on its stream, then RST_STREAM; the connection stays open",
        figures={"answered after s": round(answered_after, 1)},
    )
