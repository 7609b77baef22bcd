"""twistd -y web.tac: run Django in the reactor's own thread pool.

``reactor.getThreadPool()`` is the pool behind ``reactor.callInThread`` and
``deferToThread``: 0 to 10 threads, started when the reactor runs and
stopped in a shutdown trigger. The reactor's default name resolver runs
``getaddrinfo`` in that same pool, so Django's requests and the daemon's
DNS lookups wait for the same threads. See the "fix variants" page.
"""

import os

from twisted.application import service, strports
from twisted.internet import reactor
from twisted.web.server import Site
from twisted.web.wsgi import WSGIResource

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backupsite.settings")
from django.core.wsgi import get_wsgi_application  # noqa: E402

pool = reactor.getThreadPool()  # Created now, started when the reactor runs.

resource = WSGIResource(reactor, pool, get_wsgi_application())
endpoint = f"tcp:{os.environ.get('PORT', '8080')}:interface=127.0.0.1"

application = service.Application("backupsite")
strports.service(endpoint, Site(resource)).setServiceParent(application)
