"""Build the one service of ``twistd backup-server``.

Children start in order, and stop in the reverse order, each once the one
after it has finished stopping (``StopInOrder``):

1. the ORM pool starts first, and stops last, once its jobs are done;
2. the agents' port, whose connections are closed when it stops;
3. the web service of the production plugin (its WSGI pool, then its port):
   it stops first, and drains its requests while the agents are still there
   to answer the views that call them.

``StopInOrder`` is the service that twistd runs: with ``GivesLogObserver``
it hands twistd the web service's log observer, so that ``SIGUSR1`` opens
``--logfile`` anew after logrotate, as it does ``--access-log``.
"""

from twisted.application.service import MultiService, Service
from twisted.internet.defer import succeed
from twisted.logger import Logger

from backupserver import bridge
from backupserver.orm import OrmPool
from backupserver.protocol import AgentFactory, AgentHub
from twistd_django.listen import ListeningService
from twistd_django.service import GivesLogObserver, django_service


class StopInOrder(GivesLogObserver, MultiService):
    """A MultiService that stops its children one at a time, last one first.

    ``MultiService.stopService`` calls every child's ``stopService`` in the
    same turn of the reactor, and waits for all of them together: the agents
    would be disconnected while the web service still drains a request that
    is asking one of them. This one calls the next child's ``stopService``
    only once the Deferred of the one before has fired. A child that fails to
    stop is logged, and the others still stop; the Deferred returned fails
    with the first such failure.

    ``GivesLogObserver`` first: twistd makes this service, not the web
    service under it, its application's child, and takes its log observer
    from the application.
    """

    log = Logger()

    def stopService(self):
        Service.stopService(self)
        failures = []

        def stop(result, child):
            d = succeed(None).addCallback(lambda _: child.stopService())

            def failed(failure):
                self.log.failure("{child!r} failed to stop", failure, child=child)
                failures.append(failure)

            return d.addErrback(failed)

        d = succeed(None)
        for child in reversed(list(self)):
            d.addCallback(stop, child)
        return d.addCallback(lambda _: failures[0] if failures else None)


class AgentsService(ListeningService):
    """Listen for agents; on stop, close the port, then the connections."""

    def __init__(self, reactor, description, factory):
        super().__init__(reactor, description, factory)
        self.agents = factory

    def stopService(self):
        d = super().stopService()
        self.agents.disconnect_all()
        return d


def backup_server_service(options, reactor):
    web = django_service(options, reactor)  # Configures Django, too.
    orm = OrmPool(reactor, options["orm-threads"])
    hub = AgentHub(orm, reactor)
    bridge.install(reactor, hub, options["call-timeout"])

    service = StopInOrder()
    orm.setServiceParent(service)
    AgentsService(reactor, options["agents"], AgentFactory(hub)).setServiceParent(
        service
    )
    web.setServiceParent(service)
    return service
