"""twistd plugin: ``twistd django`` serves a Django project.

The pool's service and the web service are children of one MultiService,
so twistd starts the pool after it forks. One trap is left: stopping the
pool blocks the reactor, see the tutorial.
"""

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer

from twistd_django.options import DjangoOptions


@implementer(IServiceMaker, IPlugin)
class DjangoServiceMaker:
    tapname = "django"
    description = "Serve a Django project over HTTP."
    options = DjangoOptions

    def makeService(self, options):
        from twisted.application import strports
        from twisted.application.service import MultiService
        from twisted.internet import reactor
        from twisted.python.threadpool import ThreadPool
        from twisted.web.server import Site
        from twisted.web.wsgi import WSGIResource

        from twistd_django.application import django_application
        from twistd_django.resource import django_root
        from twistd_django.threadpool import ThreadPoolService

        application = django_application(options["settings"])
        pool = ThreadPool(options["threads"], options["threads"], name="wsgi")
        wsgi = WSGIResource(reactor, pool, application)
        root = django_root(wsgi, options["static-root"])

        service = MultiService()
        # Children stop in reverse order: the port closes before the pool stops.
        ThreadPoolService(pool).setServiceParent(service)
        strports.service(options["listen"], Site(root)).setServiceParent(service)
        return service


serviceMaker = DjangoServiceMaker()
