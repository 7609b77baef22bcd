"""twistd plugin: ``twistd djangostep`` serves a Django project.

STILL BROKEN: the pool now starts in ThreadPoolService.startService, but
makeService returns only the web service, so twistd never starts the pool.
"""

from djangostep.options import DjangoOptions
from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer


@implementer(IServiceMaker, IPlugin)
class DjangoServiceMaker:
    tapname = "djangostep"
    description = (
        "Serve a Django project over HTTP (tutorial step 02-threadpool-service)."
    )
    options = DjangoOptions

    def makeService(self, options):
        from djangostep.application import django_application
        from djangostep.resource import django_root
        from djangostep.threadpool import ThreadPoolService
        from twisted.application import strports
        from twisted.internet import reactor
        from twisted.python.threadpool import ThreadPool
        from twisted.web.server import Site
        from twisted.web.wsgi import WSGIResource

        application = django_application(options["settings"])
        pool = ThreadPool(options["threads"], options["threads"], name="wsgi")
        wsgi = WSGIResource(reactor, pool, application)
        root = django_root(wsgi, options["static-root"])

        # makeService returns one service, and it is the web service. This
        # ThreadPoolService has no parent, so twistd never starts it.
        ThreadPoolService(pool)
        return strports.service(options["listen"], Site(root))


serviceMaker = DjangoServiceMaker()
