"""The service both files hand to twistd: a web server that answers every
GET with one line of text."""

from twisted.application import strports
from twisted.web.resource import Resource
from twisted.web.server import Site


class Greeting(Resource):
    isLeaf = True

    def __init__(self, text):
        super().__init__()
        self.text = text

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return f"{self.text}\n".encode()


def greeting_service(listen, text):
    """A service that listens on the endpoint ``listen`` while it runs."""
    return strports.service(listen, Site(Greeting(text)))
