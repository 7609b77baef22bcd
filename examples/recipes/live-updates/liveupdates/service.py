"""Build the one MultiService of ``twistd live-updates``: the backup server
(``backupserver``) and its Django site, with a WebSocket at ``/live/`` in the
same site, on the same port.

Children start in order: the ORM pool, the agents' port, the WebSockets'
hub, the web service. On SIGTERM they stop in this order:

1. the web service: its port closes at once, and its requests in flight
   drain, for ``--drain-timeout`` seconds at most, by the package's rules;
   meanwhile the WebSockets still get the snapshots that agents report;
2. the WebSockets: each gets a close frame with 1001 (going away) once the
   requests in flight are done, and no later than ``close_grace`` seconds
   before the drain timeout; a client still there ``close_grace`` seconds
   later is cut off. So the daemon exits within its drain timeout;
3. once the web service has stopped, the agents' connections, then the ORM
   pool, once its jobs are done.

``LiveUpdatesService`` hands twistd the web service's log observer
(``GivesLogObserver``), so that ``SIGUSR1`` opens ``--logfile`` anew after
logrotate, as it does ``--access-log``.
"""

import json
import threading

from twisted.application.service import MultiService, Service
from twisted.internet.defer import DeferredList, maybeDeferred
from twisted.logger import Logger
from twisted.web.resource import Resource

from backupserver import bridge
from backupserver.orm import OrmPool
from backupserver.protocol import AgentFactory, AgentHub
from backupserver.service import AgentsService
from twistd_django.service import GivesLogObserver, django_service

from . import snapshots, twisted_private

LIVE_PATH = "/live/"
STATE_PATH = "/_twistd/live-updates"


def close_grace(drain_timeout):
    """Seconds that the WebSockets' close takes at most."""
    return min(2.0, drain_timeout / 2)


class LiveAgentHub(AgentHub):
    """The backup server's hub, which pushes each stored snapshot to the
    pages: the ORM pool saves it and describes it, the reactor pushes."""

    log = Logger()

    def __init__(self, orm, reactor, live):
        super().__init__(orm, reactor)
        self.live = live

    def report(self, host, label, size_bytes, status):
        d = self.orm.run(snapshots.record_and_describe, host, label, size_bytes, status)

        def saved(result):
            snapshot_id, thread, message = result
            self.log.info(
                "Stored snapshot {id} of {host}: {label} ({status}),"
                " in thread {thread}",
                id=snapshot_id,
                host=host,
                label=label,
                status=status,
                thread=thread,
            )
            pages = self.live.broadcast(message)
            self.log.info(
                "Pushed snapshot {id} to {pages} page(s), in thread {thread}",
                id=snapshot_id,
                pages=pages,
                thread=threading.current_thread().name,
            )
            return snapshot_id

        return d.addCallback(saved)

    def end_session(self, session_key):
        """For the logout signal (``liveupdates.apps``), through the bridge."""
        self.live.end_session(session_key)


class StateResource(Resource):
    """``/_twistd/live-updates``: the hub's counts, as JSON."""

    isLeaf = True

    def __init__(self, live):
        super().__init__()
        self.live = live

    def render_GET(self, request):
        request.setHeader("content-type", "application/json")
        request.setHeader("cache-control", "no-store")
        return json.dumps(self.live.snapshot_of_state()).encode() + b"\n"


class LiveUpdatesService(GivesLogObserver, MultiService):
    """The children, started in order, stopped one after the other (a plain
    ``MultiService`` stops them all at once). twistd takes its log from the
    web service's observer (``GivesLogObserver``)."""

    def __init__(self, reactor, orm, agents, live, web, drain_timeout):
        super().__init__()
        self.reactor = reactor
        self.orm, self.agents, self.live, self.web = orm, agents, live, web
        self.drain_timeout = drain_timeout
        for child in (orm, agents, live, web):
            child.setServiceParent(self)

    def stopService(self):
        Service.stopService(self)
        self.live.stop_accepting()
        # The port closes, and the site drains its connections: it answers
        # the requests in flight, closes the idle ones, and (twistd-django's
        # LimitedSite) waits for the rest, WebSockets too.
        web_stopped = maybeDeferred(self.web.stopService)
        # The WebSockets close once the requests in flight are done, or when
        # only the close's grace is left of the drain timeout.
        latest = max(0.0, self.drain_timeout - self.live.close_grace)
        requests_done = self.web.in_flight.drained(latest, self.reactor)
        d = requests_done.addCallback(lambda _: self.live.stopService())
        d.addCallback(lambda _: DeferredList([web_stopped], consumeErrors=True))
        d.addCallback(lambda _: self.agents.stopService())
        return d.addCallback(lambda _: self.orm.stopService())


def make_service(options):
    """The plugin's ``makeService``: the service, with the global reactor."""
    from twisted.internet import reactor

    return live_updates_service(options, reactor)


def live_updates_service(options, reactor):
    web = django_service(options, reactor)  # Configures Django, too.
    twisted_private.check()
    from .handshake import LiveResource
    from .hub import LiveHub

    orm = OrmPool(reactor, options["orm-threads"])
    live = LiveHub(
        reactor,
        orm,
        max_connections=options["live-max-connections"],
        max_per_user=options["live-max-per-user"],
        max_message=options["live-max-message"],
        max_backlog=options["live-backlog"],
        recheck=options["live-recheck"],
        ping=options["live-ping"],
        close_grace=close_grace(options["drain-timeout"]),
    )
    hub = LiveAgentHub(orm, reactor, live)
    bridge.install(reactor, hub, options["call-timeout"])
    web.root.mount(LIVE_PATH, LiveResource(live))
    web.root.mount(STATE_PATH, StateResource(live))
    agents = AgentsService(reactor, options["agents"], AgentFactory(hub))
    return LiveUpdatesService(reactor, orm, agents, live, web, options["drain-timeout"])
