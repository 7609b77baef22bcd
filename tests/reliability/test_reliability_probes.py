"""The reliability probes themselves: a hang, a close and an answer are
three different outcomes of ``exchange()``, against a bare socket server."""

import socket
import threading
import time

import pytest

from support.reliability import CLOSED, TIMED_OUT, exchange


@pytest.fixture
def server():
    """``server(behaviour)``: a listening socket whose one connection gets
    ``behaviour(conn)``; its port."""
    listeners = []

    def start(behaviour):
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve():
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                behaviour(conn)

        threading.Thread(target=serve, daemon=True).start()
        return listener.getsockname()[1]

    yield start
    for listener in listeners:
        listener.close()


def test_a_hang_is_not_a_close(server):
    release = threading.Event()
    port = server(lambda conn: release.wait(10))
    status, reply, seconds = exchange(port, b"GET / HTTP/1.1\r\n\r\n", timeout=0.5)
    release.set()
    assert status is TIMED_OUT and status != CLOSED
    assert reply == b""
    assert seconds >= 0.5


def test_a_close_without_a_response(server):
    port = server(lambda conn: None)
    started = time.monotonic()
    status, reply, _ = exchange(port, b"GET / HTTP/1.1\r\n\r\n", timeout=30)
    assert status is CLOSED and status != TIMED_OUT
    assert reply == b""
    assert time.monotonic() - started < 30  # A close returns at once.


def test_bytes_that_are_not_a_status_line_then_a_close(server):
    port = server(lambda conn: conn.sendall(b"garbage\r\n"))
    status, reply, _ = exchange(port, b"GET / HTTP/1.1\r\n\r\n")
    assert (status, reply) == (CLOSED, b"garbage\r\n")


def test_an_answer_on_a_connection_kept_open(server):
    release = threading.Event()

    def answer(conn):
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        release.wait(10)

    port = server(answer)
    status, reply, _ = exchange(port, b"GET / HTTP/1.1\r\n\r\n", timeout=0.5)
    release.set()
    assert status == 400
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert status not in (CLOSED, TIMED_OUT)
