"""twistd -y web.tac: serve the Django site, the way many .tac files do.

BROKEN ON PURPOSE: the pool starts while twistd reads this file, before it
forks to daemonize. Run daemonized, the first requests hang. See the tutorial.
"""

import os

from twisted.application import service, strports
from twisted.internet import reactor
from twisted.python.threadpool import ThreadPool
from twisted.web.server import Site
from twisted.web.wsgi import WSGIResource

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backupsite.settings")
from django.core.wsgi import get_wsgi_application  # noqa: E402

pool = ThreadPool()  # minthreads=5, maxthreads=20
pool.start()
reactor.addSystemEventTrigger("after", "shutdown", pool.stop)

resource = WSGIResource(reactor, pool, get_wsgi_application())
endpoint = f"tcp:{os.environ.get('PORT', '8080')}:interface=127.0.0.1"

application = service.Application("backupsite")
strports.service(endpoint, Site(resource)).setServiceParent(application)
