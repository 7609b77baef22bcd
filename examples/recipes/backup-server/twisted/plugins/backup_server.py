"""twistd plugin: ``twistd backup-server`` runs a backup server and its site.

One process, one MultiService: a line protocol on which backup agents report
finished snapshots, and the Django site that shows them. It builds on the
installed twistd-django package (``pip install twistd-django``); see
backupserver.service for the order in which the parts start and stop.
"""

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer

from backupserver.options import BackupServerOptions


@implementer(IServiceMaker, IPlugin)
class BackupServerMaker:
    tapname = "backup-server"
    description = "A backup server for agents, and its Django site, in one process."
    options = BackupServerOptions

    def makeService(self, options):
        from twisted.internet import reactor

        from backupserver.service import backup_server_service

        return backup_server_service(options, reactor)


serviceMaker = BackupServerMaker()
