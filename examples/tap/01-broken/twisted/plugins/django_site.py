"""twistd plugin: ``twistd djangostep`` serves a Django project.

BROKEN ON PURPOSE: the thread pool is started in makeService, before twistd
forks to daemonize. The daemon's pool has no threads. See the tutorial.
"""

from djangostep.options import DjangoOptions
from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer


@implementer(IServiceMaker, IPlugin)
class DjangoServiceMaker:
    tapname = "djangostep"
    description = "Serve a Django project over HTTP (tutorial step 01-broken)."
    options = DjangoOptions

    def makeService(self, options):
        from djangostep.application import django_application
        from djangostep.resource import django_root
        from twisted.application import strports
        from twisted.internet import reactor
        from twisted.python.threadpool import ThreadPool
        from twisted.web.server import Site
        from twisted.web.wsgi import WSGIResource

        application = django_application(options["settings"])
        pool = ThreadPool(options["threads"], options["threads"], name="wsgi")
        pool.start()
        reactor.addSystemEventTrigger("after", "shutdown", pool.stop)
        wsgi = WSGIResource(reactor, pool, application)
        root = django_root(wsgi, options["static-root"])
        return strports.service(options["listen"], Site(root))


serviceMaker = DjangoServiceMaker()
