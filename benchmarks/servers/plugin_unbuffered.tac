"""twistd -y plugin_unbuffered.tac: the production plugin as it was before
tuning, writing every response back with one blocking call per chunk, as
Twisted's own ``WSGIResource.render`` does.

$PLUGIN_ARGS holds the plugin's options, as for ``twistd django``.
"""

import os
import shlex

from twisted.application import service
from twisted.internet import reactor
from twisted.web.wsgi import WSGIResource

from twistd_django.inflight import TrackingWSGIResource
from twistd_django.options import DjangoOptions
from twistd_django.service import django_service


class UnbufferedWSGIResource(TrackingWSGIResource):
    def render(self, request):
        self.in_flight.track(request)
        return WSGIResource.render(self, request)


def swap_wsgi_resource(resource):
    """Replace the TrackingWSGIResource under ``resource`` with the above."""
    inner = getattr(resource, "resource", None) or getattr(resource, "wsgi", None)
    if isinstance(inner, TrackingWSGIResource):
        inner.__class__ = UnbufferedWSGIResource
    elif inner is not None:
        swap_wsgi_resource(inner)


options = DjangoOptions()
options.parseOptions(shlex.split(os.environ["PLUGIN_ARGS"]))
application = service.Application("plugin-unbuffered")
web = django_service(options, reactor)
swap_wsgi_resource(web.root)
web.setServiceParent(application)
