"""The backup-server recipe: a Twisted line protocol and Django in one daemon.

examples/recipes/backup-server, documented in
docs/howto/run-a-twisted-service-beside-django.rst.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from support.http import free_port, get
from support.procs import wait_until
from support.recipes import RECIPES, LineClient, start_backup_server, start_recipe
from support.site import site_env
from support.steps import ROOT, SITE

CALL_TIMEOUT = 1.0


def start(twistd, daemonize=True, extra=()):
    return start_backup_server(twistd, CALL_TIMEOUT, daemonize, extra)


@pytest.mark.parametrize("daemonize", [True, False], ids=["daemonized", "foreground"])
def test_a_report_over_the_protocol_shows_on_the_django_page(twistd, daemonize):
    daemon = start(twistd, daemonize)
    label = f"/srv/{'daemon' if daemonize else 'fg'}-{time.monotonic_ns()}"
    with LineClient(daemon.agents_port) as agent:
        assert agent.ask("HELLO db1") == "OK hello db1"
        answer = agent.ask(f"REPORT ok 4096 {label}")
        assert re.fullmatch(r"OK \d+", answer), answer
        assert agent.ask("REPORT fine 1 x").startswith("ERROR status must be")
    page = get(daemon.port, "/")
    assert page.status == 200
    assert label in page.text and "db1" in page.text
    # The ORM work ran in the dedicated pool, not in the reactor thread.
    stored = re.findall(
        r"Stored snapshot \d+ of db1: (\S+) \(ok\), in thread (\S+)", daemon.log()
    )
    assert stored == [(label, stored[0][1])]
    assert re.fullmatch(r"PoolThread-orm-\d+", stored[0][1])
    daemon.stop()


def test_orm_jobs_run_between_close_old_connections(site_data, tmp_path):
    """In the pool thread: a connection left open before the job is replaced,
    the job's own is closed after it, and the reactor thread is refused."""
    script = tmp_path / "orm_check.py"
    script.write_text(ORM_CHECK)
    env = site_env(site_data)
    env["PYTHONPATH"] = os.pathsep.join([str(RECIPES / "backup-server"), str(SITE)])
    result = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["thread"].startswith("PoolThread-orm-")
    assert found["stale_connection_replaced"] is True
    assert found["closed_after_job"] is True
    assert found["refused_in_reactor_thread"] is True


ORM_CHECK = """
import json, os, threading
os.environ["DJANGO_SETTINGS_MODULE"] = "backupserver.settings"
import django
django.setup()
from django.db import connection
from twisted.internet import defer, task
from twisted.internet.threads import deferToThreadPool
from backupserver.orm import InReactorThread, OrmPool, with_connections

def open_connection():
    from catalogue.models import Host
    Host.objects.count()
    # The connection object itself: a reference keeps its id from being reused.
    return connection.connection, threading.current_thread().name

@defer.inlineCallbacks
def main(reactor):
    orm = OrmPool(reactor, 1)
    orm.startService()
    raw = lambda f: deferToThreadPool(reactor, orm.pool, f)
    stale, _ = yield raw(open_connection)  # Left open, as an idle thread would.
    fresh, thread = yield orm.run(open_connection)
    closed = yield raw(lambda: connection.connection is None)
    try:
        with_connections(open_connection)
        refused = False
    except InReactorThread:
        refused = True
    yield orm.stopService()
    print(json.dumps({
        "thread": thread,
        "stale_connection_replaced": stale is not fresh,
        "closed_after_job": closed,
        "refused_in_reactor_thread": refused,
    }))

task.react(main)
"""


def ping(daemon, host):
    started = time.monotonic()
    response = get(daemon.port, f"/agents/{host}/ping/", timeout=10)
    return response, time.monotonic() - started


def test_a_view_calls_the_twisted_side(twistd):
    daemon = start(twistd)
    with LineClient(daemon.agents_port) as agent:
        assert agent.ask("HELLO web1") == "OK hello web1"
        assert json.loads(get(daemon.port, "/agents/").body) == {"agents": ["web1"]}
        answering = threading.Thread(target=answer_pings, args=(agent, 0, 1))
        answering.start()
        response, _ = ping(daemon, "web1")
        answering.join(5)
    assert response.status == 200
    body = json.loads(response.body)
    assert body["host"] == "web1" and 0 <= body["seconds"] < CALL_TIMEOUT
    response, _ = ping(daemon, "nobody")
    assert response.status == 404


def busy(daemon):
    ready = json.loads(get(daemon.port, "/_twistd/ready").body)
    assert ready["ready"] is True
    return ready["busy"]


def answer_pings(agent, delay, count):
    for _ in range(count):
        command, _, token = agent.receive(timeout=10).partition(" ")
        assert command == "PING"
        time.sleep(delay)
        try:
            agent.send(f"PONG {token}")
        except OSError:
            return


@pytest.mark.parametrize("agent_kind", ["dead", "slow"])
def test_a_slow_or_dead_twisted_call_gives_an_error_page_in_time(twistd, agent_kind):
    daemon = start(twistd)
    with LineClient(daemon.agents_port) as agent:
        assert agent.ask("HELLO stuck") == "OK hello stuck"
        if agent_kind == "slow":  # Answers, 3 s late.
            late = threading.Thread(target=answer_pings, args=(agent, 3, 1))
            late.start()
        response, took = ping(daemon, "stuck")
        assert response.status == 504
        assert f"did not answer within {CALL_TIMEOUT:g} s" in response.text
        assert CALL_TIMEOUT <= took < CALL_TIMEOUT + 1.5
        if agent_kind == "slow":
            late.join(10)
        # The view's thread is free again: the pool is ready, nothing busy.
        assert wait_until(lambda: busy(daemon) == 0, 2)
    daemon.stop()


def test_an_agent_that_leaves_during_a_call_gives_502(twistd):
    daemon = start(twistd)
    agent = LineClient(daemon.agents_port)
    assert agent.ask("HELLO leaving") == "OK hello leaving"

    def leave():
        agent.receive(timeout=10)
        agent.close()

    leaving = threading.Thread(target=leave)
    leaving.start()
    response, took = ping(daemon, "leaving")
    leaving.join(5)
    assert response.status == 502
    assert took < CALL_TIMEOUT


def test_sigterm_with_agents_connected_stops_cleanly(twistd):
    daemon = start(twistd)
    agent = LineClient(daemon.agents_port)
    try:
        assert agent.ask("HELLO web9") == "OK hello web9"
        daemon.stop()  # Asserts: exits within 10 s, pidfile removed.
        with pytest.raises(ConnectionError):
            agent.receive(timeout=5)
    finally:
        agent.close()
    assert "Traceback" not in daemon.log()


def test_the_recipe_needs_no_change_to_the_site():
    assert not (ROOT / "examples" / "site" / "agents").exists()


def test_the_recipe_options_come_from_the_config_file_too(twistd, tmp_path):
    """--agents, --orm-threads and --call-timeout are read from [django]."""
    agents = free_port()
    config = tmp_path / "backup-server.ini"
    config.write_text(
        "[django]\n"
        "settings = backupserver.settings\n"
        f"agents = tcp:{agents}:interface=127.0.0.1\n"
        "orm-threads = 3\n"
        "call-timeout = 0.5\n"
    )
    daemon = start_recipe(
        twistd,
        "backup-server",
        [
            "backup-server",
            f"--config={config}",
            "--listen=tcp:{port}:interface=127.0.0.1",
        ],
    )
    with LineClient(agents) as agent:
        assert agent.ask("HELLO cfg1") == "OK hello cfg1"
    daemon.stop()

    config.write_text("[django]\nsettings = backupserver.settings\norm-threads = 0\n")
    bad = start_recipe(
        twistd,
        "backup-server",
        ["backup-server", f"--config={config}", "--listen=tcp:{port}"],
        start=False,
    )
    assert bad.launch() == 1
    assert f"{config}: orm-threads: expected a whole number from 1 up" in (
        bad.output.decode()
    )
