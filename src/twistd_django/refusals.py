"""An access log line for each response that no ``Request`` reports.

The limits (``twistd_django.limits``) answer some requests on the connection
itself, before the request is whole: ``400`` for an ambiguous request,
``408`` for a body too slow, ``413`` for a body too big, ``414``, ``431``,
and ``503`` for a body still coming when the drain starts; and Twisted's
parser answers a request it cannot parse with a bare ``400``. Twisted logs a
request when its ``Request`` finishes, and none does here: the access log
would hold fewer lines than the responses that clients got.

So each such response is logged as a ``Refusal``, through the site's own
``log`` (``HTTPFactory.log``): with the site's formatter (``--trust-proxy``
reads the headers, when they have arrived), into the site's file
(``--access-log``, or else twistd's log, as for any request). What is not
known is ``-``: the request line of a ``414``, which never arrived whole;
the headers that had not arrived yet.
"""

from twisted.web.http_headers import Headers

UNKNOWN = b"-"


class Refusal:
    """What an access log formatter reads of a request (Twisted's
    ``IAccessLogFormatter`` is given an ``IRequest``), for a response that
    was written without one: ``code``, ``length`` (the body's bytes),
    ``client`` (the peer's address) and what had arrived of the request."""

    def __init__(
        self, code, length, client, method=None, uri=None, version=None, headers=None
    ):
        self.code = code
        self.sentLength = length
        self.client = client
        self.method = method or UNKNOWN
        self.uri = uri or UNKNOWN
        self.clientproto = version or UNKNOWN
        self.requestHeaders = Headers() if headers is None else headers

    def getClientAddress(self):
        return self.client

    def getHeader(self, name):
        values = self.requestHeaders.getRawHeaders(name)
        return None if values is None else values[-1]


def request_line(line):
    """``(method, uri, version)`` of an HTTP/1.1 request line, as a
    ``Refusal`` takes them; ``(None, None, None)`` for no line, or for one
    that is not three words."""
    words = line.split(b" ") if line else []
    if len(words) != 3 or not all(words):
        return None, None, None
    return tuple(words)
