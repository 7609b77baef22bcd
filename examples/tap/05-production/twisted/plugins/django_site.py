"""twistd plugin: ``twistd django`` serves a Django project.

The pool's service and the web service are children of one MultiService,
so twistd starts the pool after it forks. On SIGTERM the port closes, the
requests in flight finish, and then the pool stops. See twistd_django.service
for the rest: static and media files, health checks, logging, the tripwire.
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
        from twisted.internet import reactor

        from twistd_django.service import django_service

        return django_service(options, reactor)


serviceMaker = DjangoServiceMaker()
