"""Build the service that ``twistd django`` runs, from its parsed options."""

from twisted.application.service import MultiService
from twisted.logger import ILogObserver

from twistd_django import dbcheck, logbridge, logfile, tripwire, twisted_private
from twistd_django.accesslog import LogWholeResponses, combined_log_formatter
from twistd_django.application import django_application
from twistd_django.backpressure import BoundedQueue
from twistd_django.health import health_resource
from twistd_django.inflight import InFlight, TrackingWSGIResource
from twistd_django.limits import LimitedSite
from twistd_django.listen import ListeningService
from twistd_django.resource import django_root
from twistd_django.static import SafeFiles
from twistd_django.threadpool import DaemonThreadPool, ThreadPoolService


class DjangoService(MultiService):
    """The pool's service and the listening service, in that order: children
    start in order, so the port opens once the pool runs.

    Its attributes are the public hooks for a recipe that adds to the site:
    ``site`` (the ``Site``: its ``acceptableProtocols`` is what TLS offers
    through ALPN), ``root`` (mount more resources with ``root.mount``),
    ``pool`` and ``in_flight``.

    ``log_observer``, if not None, is the observer that twistd's log goes
    through (``twistd_django.logfile``): twistd uses an ``ILogObserver``
    component of its application instead of opening ``--logfile`` itself,
    so this service sets one when twistd makes it the application's.
    """

    log_observer = None

    def __init__(self, site, root, pool, in_flight):
        super().__init__()
        self.site, self.root, self.pool, self.in_flight = site, root, pool, in_flight

    def setServiceParent(self, parent):
        # twistd's Application is a Componentized; a MultiService is not.
        if self.log_observer is not None and hasattr(parent, "setComponent"):
            if parent.getComponent(ILogObserver, None) is None:
                parent.setComponent(ILogObserver, self.log_observer)
        return super().setServiceParent(parent)


def django_service(options, reactor):
    """Configure Django from ``options`` (a parsed ``DjangoOptions``), check
    its databases, and return the ``DjangoService`` that serves it. First of
    all, check that Twisted has the private names the package relies on."""
    twisted_private.check()
    if options["fork-tripwire"]:
        tripwire.install()
    application = django_application(options["settings"])
    dbcheck.check_databases(write=options["db-write-check"])
    logbridge.install()

    pool = DaemonThreadPool(options["threads"], options["threads"], name="wsgi")
    in_flight = InFlight()
    wsgi = TrackingWSGIResource(reactor, pool, application, in_flight)
    bounded = BoundedQueue(wsgi, in_flight, options["threads"] + options["max-queue"])
    root = django_root(
        LogWholeResponses(bounded), options["static-root"], options["media-root"]
    )
    for url_prefix, directory in options["mounts"]:
        root.mount(url_prefix, SafeFiles(directory))
    root.mount("/_twistd/", health_resource(pool, options["ready-timeout"], reactor))

    site = LimitedSite(
        root,
        head_timeout=options["head-timeout"],
        max_body=options["max-body"],
        body_timeout=options["body-timeout"],
        drain_timeout=options["drain-timeout"],
        logPath=options["access-log"],
        logFormatter=combined_log_formatter(options["trust-proxy"]),
    )

    service = DjangoService(site, root, pool, in_flight)
    # twistd's options, when twistd parsed them: the log goes where they say.
    service.log_observer = logfile.twistd_log_observer(getattr(options, "parent", None))
    if options["access-log"]:
        logfile.install_signal_handler(reactor)
    pool_service = ThreadPoolService(pool, in_flight, options["drain-timeout"])
    pool_service.setServiceParent(service)
    ListeningService(reactor, options["listen"], site).setServiceParent(service)
    return service
