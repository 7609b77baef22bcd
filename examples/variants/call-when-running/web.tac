"""twistd -y web.tac: start the pool when the reactor runs, as ``twistd web`` does.

These three lines are what ``twistd web --wsgi`` does in
twisted/web/tap.py. The reactor runs after twistd has forked and dropped its
privileges, so the pool's threads are born in the daemon. But the pool stops
in a shutdown trigger, in the reactor thread: SIGTERM with a request in
flight hangs the daemon. See the "fix variants" page.
"""

import os

from twisted.application import service, strports
from twisted.internet import reactor
from twisted.python.threadpool import ThreadPool
from twisted.web.server import Site
from twisted.web.wsgi import WSGIResource

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backupsite.settings")
from django.core.wsgi import get_wsgi_application  # noqa: E402

pool = ThreadPool(name="wsgi")  # minthreads=5, maxthreads=20, like twistd web
reactor.callWhenRunning(pool.start)  # Runs in reactor.run(): after the fork.
reactor.addSystemEventTrigger("after", "shutdown", pool.stop)

resource = WSGIResource(reactor, pool, get_wsgi_application())
endpoint = f"tcp:{os.environ.get('PORT', '8080')}:interface=127.0.0.1"

application = service.Application("backupsite")
strports.service(endpoint, Site(resource)).setServiceParent(application)
