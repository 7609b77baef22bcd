"""The access log: Combined Log Format, and no response left out of it."""

from twisted.web.http import combinedLogFormatter, proxiedLogFormatter
from twisted.web.resource import Resource


def combined_log_formatter(trust_proxy):
    """Twisted's combined format quotes the client address; the standard
    format, which log analysers read, does not. With ``trust_proxy``, the
    client is the last address in X-Forwarded-For: the one the proxy added.
    """
    twisted_formatter = proxiedLogFormatter if trust_proxy else combinedLogFormatter

    def formatter(timestamp, request):
        line = twisted_formatter(timestamp, request)
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
