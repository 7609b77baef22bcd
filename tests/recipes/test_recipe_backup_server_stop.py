"""The backup server stops its parts one after another, each waiting for the last.

``MultiService.stopService`` calls every child's ``stopService`` in the same
turn of the reactor and waits for them all together: with it, ``SIGTERM``
would disconnect the agents while the web service still drains a request
that is asking one of them. backupserver/service.py stops the web service
first and waits until it has drained, then the agents, then the ORM pool
(docs/howto/run-a-twisted-service-beside-django.rst).
"""

import json
import signal
import sys
import threading

import pytest
from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred

from support.http import get
from support.recipes import RECIPES, LineClient, start_backup_server


def start(twistd, daemonize):
    return start_backup_server(twistd, 10, daemonize)


@pytest.fixture
def stop_in_order(monkeypatch):
    monkeypatch.syspath_prepend(str(RECIPES / "backup-server"))
    monkeypatch.delitem(sys.modules, "backupserver", raising=False)
    monkeypatch.delitem(sys.modules, "backupserver.service", raising=False)
    from backupserver.service import StopInOrder

    return StopInOrder


class Child(Service):
    def __init__(self, name, calls):
        self.name, self.calls = name, calls
        self.stopping = None

    def stopService(self):
        super().stopService()
        self.calls.append(self.name)
        self.stopping = Deferred()
        return self.stopping


def test_each_child_stops_once_the_one_after_it_has_stopped(stop_in_order):
    calls = []
    parent = stop_in_order()
    children = [Child(name, calls) for name in ("orm", "agents", "web")]
    for child in children:
        child.setServiceParent(parent)
    parent.startService()
    done = []
    parent.stopService().addCallback(done.append)
    orm, agents, web = children
    assert calls == ["web"] and not parent.running
    web.stopping.callback(None)
    assert calls == ["web", "agents"]
    agents.stopping.callback(None)
    assert calls == ["web", "agents", "orm"]
    assert done == []
    orm.stopping.callback(None)
    assert done == [None]


def test_twisted_multiservice_stops_them_all_at_once():
    """What the recipe works around, read in twisted/application/service.py."""
    calls = []
    parent = MultiService()
    for name in ("orm", "agents", "web"):
        Child(name, calls).setServiceParent(parent)
    parent.startService()
    parent.stopService()
    assert calls == ["web", "agents", "orm"]  # In one tick, none fired yet.


def test_a_child_that_fails_to_stop_does_not_keep_the_others_running(
    stop_in_order,
):
    calls = []
    parent = stop_in_order()
    children = [Child(name, calls) for name in ("orm", "agents", "web")]
    for child in children:
        child.setServiceParent(parent)
    parent.startService()
    stopped = parent.stopService()
    children[2].stopping.errback(RuntimeError("web failed to stop"))
    children[1].stopping.callback(None)
    children[0].stopping.callback(None)
    assert calls == ["web", "agents", "orm"]
    failures = []
    stopped.addErrback(failures.append)
    assert [f.value.args for f in failures] == [("web failed to stop",)]


@pytest.mark.parametrize("daemonize", [True, False], ids=["daemonized", "foreground"])
def test_sigterm_lets_a_view_finish_its_call_to_an_agent(twistd, daemonize):
    """A view in flight at SIGTERM is asking an agent; the agent answers 1 s
    later, and the view's response is the agent's answer, not a 502."""
    daemon = start(twistd, daemonize)
    agent = LineClient(daemon.agents_port)
    try:
        assert agent.ask("HELLO web1") == "OK hello web1"
        answer = {}

        def ask():
            answer["response"] = get(daemon.port, "/agents/web1/ping/", timeout=15)

        asking = threading.Thread(target=ask)
        asking.start()
        command, _, token = agent.receive(timeout=10).partition(" ")
        assert command == "PING"  # The view is in flight, waiting for us.
        daemon.signal(signal.SIGTERM)
        # The web service drains while the agents are still connected.
        agent.sock.settimeout(1.0)
        with pytest.raises(TimeoutError):
            agent.sock.recv(1)
        agent.send(f"PONG {token}")
        asking.join(15)
        response = answer["response"]
        assert response.status == 200, response.text
        assert json.loads(response.body)["host"] == "web1"
        # Then the agents are disconnected, and the daemon exits.
        with pytest.raises(ConnectionError):
            agent.receive(timeout=10)
        assert daemon.wait_stopped(10), daemon.log()
    finally:
        agent.close()
    assert "Traceback" not in daemon.log()
