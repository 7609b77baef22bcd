"""twistd -y raw.tac: Twisted's own ceiling, with no WSGI and no Django.

One resource answers "ok" to every GET, through the same ``Site`` (and the
same access log in the twistd log) that ``twistd web`` uses. $PORT is the port.
"""

import os

from twisted.application import service, strports
from twisted.web.resource import Resource
from twisted.web.server import Site


class Plain(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return b"ok\n"


application = service.Application("raw")
endpoint = f"tcp:{os.environ['PORT']}:interface=127.0.0.1"
strports.service(endpoint, Site(Plain())).setServiceParent(application)
