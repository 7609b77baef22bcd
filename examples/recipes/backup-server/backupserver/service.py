"""Build the one MultiService of ``twistd backup-server``.

Children start in order and stop in reverse order:

1. the ORM pool starts first, and stops last, once its jobs are done;
2. the agents' port, whose connections are closed when it stops;
3. the web service of the production plugin (its WSGI pool, then its port):
   it stops first, and drains its requests while the agents are still there
   to answer the views that call them.
"""

from twisted.application.service import MultiService

from backupserver import bridge
from backupserver.orm import OrmPool
from backupserver.protocol import AgentFactory, AgentHub
from twistd_django.listen import ListeningService
from twistd_django.service import django_service


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

    service = MultiService()
    orm.setServiceParent(service)
    AgentsService(reactor, options["agents"], AgentFactory(hub)).setServiceParent(
        service
    )
    web.setServiceParent(service)
    return service
