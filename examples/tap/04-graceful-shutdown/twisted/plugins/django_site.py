"""twistd plugin: ``twistd djangostep`` serves a Django project.

The pool's service and the web service are children of one MultiService,
so twistd starts the pool after it forks. On SIGTERM the port closes, the
requests in flight finish, and then the pool stops. The stop signals are
queued for the reactor, so that a signal never waits for a log line.
"""

from djangostep.options import DjangoOptions
from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer


@implementer(IServiceMaker, IPlugin)
class DjangoServiceMaker:
    tapname = "djangostep"
    description = (
        "Serve a Django project over HTTP (tutorial step 04-graceful-shutdown)."
    )
    options = DjangoOptions

    def makeService(self, options):
        from djangostep.application import django_application
        from djangostep.inflight import InFlight, TrackingWSGIResource
        from djangostep.resource import FilesWithoutListing, django_root
        from djangostep.signals import QueuedStopSignals
        from djangostep.threadpool import DaemonThreadPool, ThreadPoolService
        from twisted.application import strports
        from twisted.application.service import MultiService
        from twisted.internet import reactor
        from twisted.web.server import Site

        application = django_application(options["settings"])
        pool = DaemonThreadPool(options["threads"], options["threads"], name="wsgi")
        in_flight = InFlight()
        wsgi = TrackingWSGIResource(reactor, pool, application, in_flight)
        root = django_root(wsgi, options["static-root"])
        for url_prefix, directory in options["mounts"]:
            root.mount(url_prefix, FilesWithoutListing(directory))

        service = MultiService()
        # MultiService calls its children's stopService in reverse order, in
        # one turn of the reactor, without waiting for any: the port stops
        # accepting, and the pool's service waits for the requests in flight
        # before it stops the pool.
        pool_service = ThreadPoolService(pool, in_flight, options["drain-timeout"])
        pool_service.setServiceParent(service)
        strports.service(options["listen"], Site(root)).setServiceParent(service)
        QueuedStopSignals(reactor).setServiceParent(service)
        return service


serviceMaker = DjangoServiceMaker()
