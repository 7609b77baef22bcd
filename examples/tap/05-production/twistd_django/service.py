"""Build the service that ``twistd django`` runs, from its parsed options."""

from twisted.application.service import MultiService

from twistd_django import dbcheck, logbridge, tripwire
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


def django_service(options, reactor, buffered=True):
    """The web service; ``buffered=False`` writes every response back chunk
    by chunk, as Twisted's ``WSGIResource`` does."""
    if options["fork-tripwire"]:
        tripwire.install()
    application = django_application(options["settings"])
    dbcheck.check_databases()
    logbridge.install()

    pool = DaemonThreadPool(options["threads"], options["threads"], name="wsgi")
    in_flight = InFlight()
    wsgi = TrackingWSGIResource(
        reactor, pool, application, in_flight, buffered=buffered
    )
    bounded = BoundedQueue(wsgi, in_flight, options["threads"] + options["max-queue"])
    root = django_root(
        LogWholeResponses(bounded), options["static-root"], options["media-root"]
    )
    for url_prefix, directory in options["mounts"]:
        root.mount(url_prefix, SafeFiles(directory))
    root.mount("/_twistd/", health_resource(pool, options["ready-timeout"], reactor))

    formatter = combined_log_formatter(options["trust-proxy"])
    site = LimitedSite(
        root,
        head_timeout=options["head-timeout"],
        max_body=options["max-body"],
        logPath=options["access-log"],
        logFormatter=formatter,
    )

    service = MultiService()
    # Children stop in reverse order: the port closes before the pool stops.
    pool_service = ThreadPoolService(pool, in_flight, options["drain-timeout"])
    pool_service.setServiceParent(service)
    ListeningService(reactor, options["listen"], site).setServiceParent(service)
    return service
