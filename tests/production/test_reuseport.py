"""N ordinary twistd django daemons on one port (``--listen=reuseport:``):
the kernel spreads new connections over them, one stops while the others
serve, and daemons that share one log file lose none of its lines.
docs/howto/use-more-than-one-core.rst."""

import json
import re

import pytest

from support.http import get
from support.procs import wait_until
from support.steps import PACKAGE

REUSEPORT = "--listen=reuseport:{port}:interface=127.0.0.1"
ACCESS_LINE = re.compile(
    r'^127\.0\.0\.1 - - \[[^]]+\] "GET /status\.json\?n=(\d+) HTTP/1\.1" 200 \d+ "-" "[^"]*"$'
)


def start_daemons(twistd, count, extra_args=()):
    first = twistd(PACKAGE, extra_args=[REUSEPORT, *extra_args])
    daemons = [first]
    for _ in range(count - 1):
        daemon = twistd(PACKAGE, extra_args=[REUSEPORT, *extra_args], start=False)
        daemon.port = first.port
        daemons.append(daemon.start())
    return daemons


def answering_pid(port, number):
    answer = get(port, f"/status.json?n={number}", timeout=10)
    assert answer.status == 200, answer
    return json.loads(answer.body)["pid"]


def test_new_connections_reach_every_daemon(twistd):
    daemons = start_daemons(twistd, 2)
    pids = {answering_pid(daemons[0].port, n) for n in range(40)}
    # Each request is a new connection, from a new source port: the kernel's
    # hash sends 40 of them to one daemon only once in 2**39.
    assert pids == {daemon.pid for daemon in daemons}


def test_the_others_serve_on_while_one_stops(twistd):
    daemons = start_daemons(twistd, 2)
    stopping, staying = daemons
    stopping.stop()  # SIGTERM by its pidfile's PID; asserts exit and no pidfile.
    assert {answering_pid(staying.port, n) for n in range(20)} == {staying.pid}


def test_a_plain_tcp_listener_on_the_port_refuses_to_share_it(twistd):
    (daemon,) = start_daemons(twistd, 1)
    plain = twistd(PACKAGE, start=False)
    plain.port = daemon.port
    status = plain.launch()
    output = plain.output.decode()
    assert status == 1, output
    assert f"Address already in use: 127.0.0.1:{daemon.port}" in output


@pytest.mark.parametrize("count", [2, 3])
def test_daemons_that_share_one_access_log_lose_no_line(twistd, tmp_path, count):
    """Twisted's own log file is opened at its end and written from there,
    so processes that share it write over each other's lines; the package
    appends (O_APPEND), one write a line."""
    access_log = tmp_path / "access.log"
    daemons = start_daemons(twistd, count, [f"--access-log={access_log}"])
    requests = 60 * count
    for n in range(requests):
        answering_pid(daemons[0].port, n)

    def logged():
        return access_log.read_text().splitlines()

    assert wait_until(lambda: len(logged()) >= requests, 10), len(logged())
    numbers = []
    for line in logged():
        match = ACCESS_LINE.match(line)
        assert match, line
        numbers.append(int(match[1]))
    assert sorted(numbers) == list(range(requests))
