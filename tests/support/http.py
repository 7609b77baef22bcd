"""A small HTTP client for the tests: every call has a timeout."""

import http.client
import socket
from dataclasses import dataclass

import pytest


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def get(port, path="/", timeout=5.0, host="127.0.0.1", headers=None):
    """GET ``path`` and read the whole response, within ``timeout`` seconds."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        conn.close()


def cut_off(conn, path):
    """GET ``path`` on ``conn``, then close it: the answer must be a 200 whose
    body the server cuts off (the connection closes before the body ends).
    Returns the part of the body that came."""
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200
        with pytest.raises(http.client.IncompleteRead) as error:
            response.read()
    finally:
        conn.close()
    return error.value.partial


def hangs(port, path="/", timeout=2.0, host="127.0.0.1"):
    """True if the port accepts the connection but no response comes in time.

    Raises if the connection is refused: a closed port is not a hang.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        try:
            sock.recv(1)  # A byte, or b"" when the server closes: no hang.
        except TimeoutError:
            return True
        return False


def port_open(port, host="127.0.0.1", timeout=0.5):
    """True while something listens on ``port``, False once it refuses.

    A server that hangs stops accepting: its accept queue fills, and a
    connection then waits unanswered. That is a listening port, not a
    closed one, so a timeout counts as open."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except TimeoutError:
        return True
    except OSError:
        return False


def free_ports(count, host="127.0.0.1"):
    """``count`` distinct TCP ports that are free on ``host`` right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sockets.append(sock)
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port(host="127.0.0.1"):
    return free_ports(1, host)[0]
