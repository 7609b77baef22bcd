"""twistd plugin: ``twistd djangostep`` serves a Django project.

The pool's service and the web service are children of one MultiService,
so twistd starts the pool after it forks. One trap is left: stopping the
pool blocks the reactor, see the tutorial.
"""

from djangostep.options import DjangoOptions
from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer


@implementer(IServiceMaker, IPlugin)
class DjangoServiceMaker:
    tapname = "djangostep"
    description = "Serve a Django project over HTTP (tutorial step 03-multiservice)."
    options = DjangoOptions

    def makeService(self, options):
        from djangostep.application import django_application
        from djangostep.resource import django_root
        from djangostep.threadpool import ThreadPoolService
        from twisted.application import strports
        from twisted.application.service import MultiService
        from twisted.internet import reactor
        from twisted.python.threadpool import ThreadPool
        from twisted.web.server import Site
        from twisted.web.wsgi import WSGIResource

        application = django_application(options["settings"])
        pool = ThreadPool(options["threads"], options["threads"], name="wsgi")
        wsgi = WSGIResource(reactor, pool, application)
        root = django_root(wsgi, options["static-root"])

        service = MultiService()
        # MultiService calls its children's stopService in reverse order, in
        # one turn of the reactor, without waiting for any: the port stops
        # accepting, and the pool is stopped right after.
        ThreadPoolService(pool).setServiceParent(service)
        strports.service(options["listen"], Site(root)).setServiceParent(service)
        return service


serviceMaker = DjangoServiceMaker()
