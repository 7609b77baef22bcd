"""The access log: Combined Log Format, and no response left out of it."""

from twisted.internet.address import IPv4Address
from twisted.web.http import combinedLogFormatter
from twisted.web.resource import Resource


class LastForwardedFor:
    """A request seen through its proxy: the client is the last address in
    X-Forwarded-For, the one that the nearest proxy added. The addresses
    before it are whatever the client sent."""

    def __init__(self, request):
        self.request = request

    def __getattr__(self, name):
        return getattr(self.request, name)

    def getClientAddress(self):
        lines = self.request.requestHeaders.getRawHeaders(b"x-forwarded-for")
        last = lines[-1].split(b",")[-1].strip() if lines else b""
        # Bytes, as Twisted's own X-Forwarded-For address holds them: its
        # formatter escapes any byte, where str must be ASCII.
        return IPv4Address("TCP", last or b"-", 0)


def combined_log_formatter(trust_proxy):
    """Twisted's combined format quotes the client address; the standard
    format, which log analysers read, does not. With ``trust_proxy``, the
    client is the last address in X-Forwarded-For (Twisted's own
    ``proxiedLogFormatter`` takes the first, which a client can forge).
    """

    def formatter(timestamp, request):
        if trust_proxy:
            request = LastForwardedFor(request)
        line = combinedLogFormatter(timestamp, request)
        client, _, rest = line[1:].partition('" ')
        return f"{client} {rest}"

    return formatter


class LogWholeResponses(Resource):
    """Log a response that was sent whole although the client left early.

    A WSGI response with a Content-Length is complete once its last byte is
    written, and a client may close the connection at once. Twisted logs a
    request when it finishes, which the WSGI resource does one reactor turn
    later, too late: the request is then counted as lost, and not logged.
    """

    isLeaf = True

    def __init__(self, resource):
        super().__init__()
        self.resource = resource

    def render(self, request):
        request.notifyFinish().addErrback(self._lost, request)
        return self.resource.render(request)

    def _lost(self, failure, request):
        length = request.responseHeaders.getRawHeaders(b"content-length", [None])[0]
        if length is not None and request.sentLength >= int(length):
            request.site.log(request)
