"""twistd -y plugin_variant.tac: the production plugin with one of its
tunings undone, to measure that tuning against the plugin as it is.

$PLUGIN_ARGS holds the plugin's options, as for ``twistd django``, and
$VARIANT says what to undo, comma-separated:

``unbuffered``
    Every response is written back with one blocking call per chunk, as
    Twisted's own ``WSGIResource.render`` does.
``wake-each``
    Every finished response wakes the reactor with a ``callFromThread`` of
    its own, instead of sharing a wake-up (``twistd_django.handback``).
``twisted-pool``
    The WSGI pool is Twisted's ``ThreadPool`` (the package's
    ``DaemonThreadPool``), not the package's ``WSGIPool``.
"""

import os
import shlex

from twisted.application import service
from twisted.internet import reactor
from twisted.web.wsgi import WSGIResource

from twistd_django.inflight import TrackingWSGIResource
from twistd_django.options import DjangoOptions
from twistd_django.service import django_service
from twistd_django.threadpool import DaemonThreadPool

UNDO = {"unbuffered", "wake-each", "twisted-pool"}


class UnbufferedWSGIResource(TrackingWSGIResource):
    def render(self, request):
        self.in_flight.track(request)
        return WSGIResource.render(self, request)


def wsgi_resource(resource):
    """The TrackingWSGIResource under ``resource``."""
    inner = getattr(resource, "resource", None) or getattr(resource, "wsgi", None)
    if isinstance(inner, TrackingWSGIResource):
        return inner
    return wsgi_resource(inner)


options = DjangoOptions()
options.parseOptions(shlex.split(os.environ["PLUGIN_ARGS"]))
undo = set(os.environ["VARIANT"].split(","))
if not undo <= UNDO:
    raise SystemExit(f"VARIANT: unknown {sorted(undo - UNDO)}; known: {sorted(UNDO)}")
application = service.Application("plugin-variant")
pool = None
if "twisted-pool" in undo:
    pool = DaemonThreadPool(options["threads"], options["threads"], name="wsgi")
web = django_service(options, reactor, pool=pool)
wsgi = wsgi_resource(web.root)
if "unbuffered" in undo:
    wsgi.__class__ = UnbufferedWSGIResource
if "wake-each" in undo:
    wsgi.hand_back = None
web.setServiceParent(application)
