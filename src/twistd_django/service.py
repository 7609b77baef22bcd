"""Build the service that ``twistd django`` runs, from its parsed options;
and hand twistd the log observer of that service, wherever it sits in the
tree of services that twistd runs."""

from twisted.application.service import IServiceCollection, MultiService
from twisted.logger import ILogObserver

from twistd_django import dbcheck, logbridge, logfile, tripwire, twisted_private
from twistd_django.accesslog import LogWholeResponses, combined_log_formatter
from twistd_django.application import django_application
from twistd_django.backpressure import BoundedQueue
from twistd_django.health import health_resource
from twistd_django.inflight import InFlight, TrackingWSGIResource
from twistd_django.limits import LimitedSite
from twistd_django.listen import ListeningService
from twistd_django.pool import WSGIPool
from twistd_django.resource import django_root
from twistd_django.signals import StopSignals
from twistd_django.static import SafeFiles
from twistd_django.threadpool import ThreadPoolService


def log_observer_of(service):
    """The first ``log_observer`` that is not None in ``service`` and the
    services under it, depth first, in the order they were added; None if
    none has one."""
    observer = getattr(service, "log_observer", None)
    if observer is not None:
        return observer
    for child in IServiceCollection(service, ()):
        observer = log_observer_of(child)
        if observer is not None:
            return observer
    return None


def give_log_observer(service, application):
    """Make ``log_observer_of(service)`` the ``ILogObserver`` component of
    ``application``, twistd's ``Application``, so that twistd's log goes
    through it; unless ``application`` has one already, or is not
    Componentized (a plain ``MultiService``), or ``service`` has none.
    Returns the observer set, or None.

    twistd looks for that component once the plugin's ``makeService`` has
    returned, before it opens ``--logfile`` itself. A ``.tac`` file whose
    top service is a plain ``MultiService`` calls this with its
    ``application``; a top service made with ``GivesLogObserver`` does it by
    itself."""
    if not hasattr(application, "setComponent"):
        return None
    if application.getComponent(ILogObserver, None) is not None:
        return None
    observer = log_observer_of(service)
    if observer is not None:
        application.setComponent(ILogObserver, observer)
    return observer


class GivesLogObserver:
    """A mixin for the top service of a recipe, the one that its plugin's
    ``makeService`` returns, before ``MultiService`` in its bases: when
    twistd makes it a child of its ``Application``, it hands the application
    the ``log_observer`` of the ``DjangoService`` under it
    (``give_log_observer``).

    Without it, a ``DjangoService`` under the recipe's own ``MultiService``
    never meets the application: twistd then writes ``--logfile`` through
    Twisted's ``LogFile``, and after logrotate has moved the file and sent
    ``SIGUSR1``, it goes on writing into the moved file (only the access
    log is opened anew)."""

    def setServiceParent(self, parent):
        give_log_observer(self, parent)
        return super().setServiceParent(parent)


class DjangoService(GivesLogObserver, MultiService):
    """The pool's service, the listening service and ``StopSignals``
    (``twistd_django.signals``), in that order: children start in order, so
    the port opens once the pool runs.

    Its attributes are the public hooks for a recipe that adds to the site:
    ``site`` (the ``Site``: its ``acceptableProtocols`` is what TLS offers
    through ALPN), ``root`` (mount more resources with ``root.mount``),
    ``pool`` and ``in_flight``.

    ``log_observer``, if not None, is the observer that twistd's log goes
    through (``twistd_django.logfile``): twistd uses an ``ILogObserver``
    component of its application instead of opening ``--logfile`` itself,
    so this service sets one when twistd makes it the application's child.
    Under a recipe's own top service, that service does it
    (``GivesLogObserver``).
    """

    log_observer = None

    def __init__(self, site, root, pool, in_flight):
        super().__init__()
        self.site, self.root, self.pool, self.in_flight = site, root, pool, in_flight


def django_service(options, reactor, pool=None):
    """Configure Django from ``options`` (a parsed ``DjangoOptions``), check
    its databases, and return the ``DjangoService`` that serves it. First of
    all, check that Twisted has the private names the package relies on.

    ``pool``: the WSGI pool, not yet started; by default a ``WSGIPool`` of
    ``--threads`` threads (``twistd_django.pool``). Any object with the
    methods of Twisted's ``ThreadPool`` that the pool module lists will do,
    a ``ThreadPool`` too."""
    twisted_private.check()
    if options["fork-tripwire"]:
        tripwire.install()
    application = django_application(options["settings"])
    dbcheck.check_databases(write=options["db-write-check"])
    logbridge.install()

    if pool is None:
        pool = WSGIPool(options["threads"], name="wsgi")
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
    StopSignals(reactor, in_flight).setServiceParent(service)
    return service
