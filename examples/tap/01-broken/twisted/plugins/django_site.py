"""twistd plugin: ``twistd django`` serves a Django project.

BROKEN ON PURPOSE: the thread pool is started in makeService, before twistd
forks to daemonize. The daemon's pool has no threads. See the tutorial.
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
        from twisted.internet import reactor
        from twisted.python.threadpool import ThreadPool
        from twisted.web.server import Site
        from twisted.web.wsgi import WSGIResource

        from twistd_django.application import django_application
        from twistd_django.resource import django_root

        application = django_application(options["settings"])
        pool = ThreadPool(options["threads"], options["threads"], name="wsgi")
        pool.start()
        reactor.addSystemEventTrigger("after", "shutdown", pool.stop)
        wsgi = WSGIResource(reactor, pool, application)
        root = django_root(wsgi, options["static-root"])
        return strports.service(options["listen"], Site(root))


serviceMaker = DjangoServiceMaker()
