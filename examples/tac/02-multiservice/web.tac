"""twistd -y web.tac: serve the Django site, with its static files.

The pool starts in ThreadPoolService.startService, after twistd forks, and
stops after the requests in flight have finished. The stop signals are
queued for the reactor, so that a signal never waits for a log line.
"""

import os

from djangostep.application import django_application
from djangostep.inflight import InFlight, TrackingWSGIResource
from djangostep.resource import django_root
from djangostep.signals import QueuedStopSignals
from djangostep.threadpool import DaemonThreadPool, ThreadPoolService
from twisted.application import service, strports
from twisted.internet import reactor
from twisted.web.server import Site

settings = os.environ.get("DJANGO_SETTINGS_MODULE", "backupsite.settings")
endpoint = f"tcp:{os.environ.get('PORT', '8080')}:interface=127.0.0.1"

pool = DaemonThreadPool(10, 10, name="wsgi")
in_flight = InFlight()
wsgi = TrackingWSGIResource(reactor, pool, django_application(settings), in_flight)

application = service.Application("backupsite")
web = service.MultiService()
web.setServiceParent(application)
# MultiService calls its children's stopService in reverse order, in one
# turn of the reactor, without waiting for any: the port stops accepting, and
# the pool's service waits for the requests in flight before it stops the pool.
ThreadPoolService(pool, in_flight, timeout=30).setServiceParent(web)
strports.service(endpoint, Site(django_root(wsgi))).setServiceParent(web)
QueuedStopSignals(reactor).setServiceParent(web)
