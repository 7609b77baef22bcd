"""twistd -y: the PEP 3333 test application (support/pep3333_app.py),
validated by wsgiref.validate, served through twistd-django's own pieces as
twistd_django/service.py puts them together: a DaemonThreadPool run by a
ThreadPoolService, the package's TrackingWSGIResource, a LimitedSite, and a
ListeningService, in a MultiService.

The environment says where and what:

PEP3333_LISTEN    the endpoint, e.g. tcp:8000:interface=127.0.0.1
PEP3333_RECORDS   the directory for the application's records
PEP3333_RESOURCE  "package" (the default), or "twisted": Twisted's own
                  WSGIResource instead, to show what the validator says of it.
"""

import os
import warnings
from wsgiref.validate import WSGIWarning

from twisted.application.service import Application, MultiService
from twisted.internet import reactor
from twisted.web.wsgi import WSGIResource

from support.pep3333_app import make_application
from twistd_django.inflight import InFlight, TrackingWSGIResource
from twistd_django.limits import LimitedSite
from twistd_django.listen import ListeningService
from twistd_django.threadpool import DaemonThreadPool, ThreadPoolService

THREADS = 4

# What the validator only warns about fails the request too, and is recorded.
warnings.simplefilter("error", WSGIWarning)

wsgi_application = make_application(os.environ["PEP3333_RECORDS"])
pool = DaemonThreadPool(THREADS, THREADS, name="wsgi")
in_flight = InFlight()
if os.environ.get("PEP3333_RESOURCE", "package") == "twisted":
    resource = WSGIResource(reactor, pool, wsgi_application)
else:
    resource = TrackingWSGIResource(reactor, pool, wsgi_application, in_flight)
site = LimitedSite(resource, head_timeout=10, max_body=8 * 1024 * 1024)

service = MultiService()
ThreadPoolService(pool, in_flight, timeout=5).setServiceParent(service)
ListeningService(reactor, os.environ["PEP3333_LISTEN"], site).setServiceParent(service)

application = Application("pep3333")
service.setServiceParent(application)
