"""twistd plugin: ``twistd live-updates`` runs the backup server and its site,
whose snapshot list updates itself over a WebSocket on the same port.

It builds on the installed twistd-django package and on the backup-server
recipe (``examples/recipes/backup-server`` goes on PYTHONPATH too); see
liveupdates.service for the order in which the parts start and stop.
"""

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer


@implementer(IServiceMaker, IPlugin)
class LiveUpdatesMaker:
    tapname = "live-updates"
    description = (
        "The backup server and its Django site, with live updates over a"
        " WebSocket on the same port."
    )

    @property
    def options(self):
        # Imported when twistd runs this plugin, not when it lists them all.
        from liveupdates.options import LiveUpdatesOptions

        return LiveUpdatesOptions

    def makeService(self, options):
        from liveupdates.service import make_service

        return make_service(options)


serviceMaker = LiveUpdatesMaker()
