"""twistd plugin: ``twistd multicore`` runs N workers on one listening socket.

    twistd multicore --bind=127.0.0.1:8080 --workers=4 -- \\
        twistd --nodaemon --pidfile= --logfile=- \\
        django --listen=systemd:domain=INET:name=web ...

See multicore.service.
"""

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer

from multicore.options import MulticoreOptions


@implementer(IServiceMaker, IPlugin)
class MulticoreMaker:
    tapname = "multicore"
    description = "Run N worker processes that share one listening socket."
    options = MulticoreOptions

    def makeService(self, options):
        from twisted.application.service import MultiService
        from twisted.internet import reactor

        from multicore.service import Workers
        from twistd_django.signals import StopSignals

        parent = MultiService()
        Workers(
            reactor,
            options["bind"],
            options["workers"],
            options["command"],
            name=options["name"],
            stop_timeout=options["stop-timeout"],
        ).setServiceParent(parent)
        # The parent logs every line of its workers: a stop signal must not
        # wait for one (twistd_django.signals).
        StopSignals(reactor).setServiceParent(parent)
        return parent


serviceMaker = MulticoreMaker()
