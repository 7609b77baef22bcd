"""Liveness from the reactor thread; readiness through the WSGI pool."""

import json
import threading

from support.http import get
from support.procs import wait_until
from support.steps import PACKAGE

PRODUCTION = PACKAGE


def test_live_and_ready_when_idle(twistd):
    daemon = twistd(PRODUCTION, extra_args=["--threads", "2"])
    live = get(daemon.port, "/_twistd/live")
    assert live.status == 200
    assert json.loads(live.body) == {"live": True}
    ready = get(daemon.port, "/_twistd/ready")
    assert ready.status == 200
    state = json.loads(ready.body)
    assert state["ready"] is True
    assert state["workers"] == 2


def test_busy_pool_is_not_ready_but_still_live(twistd):
    daemon = twistd(PRODUCTION, extra_args=["--threads", "1", "--ready-timeout", "0.5"])
    slow = threading.Thread(
        target=get, args=(daemon.port, "/slow/?seconds=4"), kwargs={"timeout": 10}
    )
    slow.start()
    try:
        assert wait_until(
            lambda: get(daemon.port, "/_twistd/ready", timeout=3).status == 503, 3
        )
        live = get(daemon.port, "/_twistd/live", timeout=3)
        assert live.status == 200
        # Answered while the pool's one thread is still busy: liveness does
        # not wait for the pool (an event, not a time bound that load moves).
        assert slow.is_alive()
        ready = json.loads(get(daemon.port, "/_twistd/ready", timeout=3).body)
        assert ready["ready"] is False
        assert ready["busy"] == 1
    finally:
        slow.join(10)
    assert get(daemon.port, "/_twistd/ready").status == 200


BROKEN_POOL_TAC = """
from twisted.application import service, strports
from twisted.internet import reactor
from twisted.python.threadpool import ThreadPool
from twisted.web.server import Site

from twistd_django.health import health_resource

pool = ThreadPool(2, 2, name="wsgi")
pool.start()  # Before the fork: the daemon's pool has no threads.
application = service.Application("broken")
site = Site(health_resource(pool, 1.0, reactor))
strports.service("tcp:{port}:interface=127.0.0.1", site).setServiceParent(application)
"""


def test_readiness_fails_where_the_pool_lost_its_threads(twistd):
    daemon = twistd(PRODUCTION, start=False)
    tac = BROKEN_POOL_TAC.replace("{port}", str(daemon.port))
    (daemon.workdir / "broken.tac").write_text(tac)
    daemon.args = ["-y", "broken.tac"]
    daemon.start()
    assert get(daemon.port, "/live").status == 200
    ready = get(daemon.port, "/ready", timeout=5)
    assert ready.status == 503
    assert json.loads(ready.body)["ready"] is False
