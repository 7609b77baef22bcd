"""Back-pressure: a bound on the requests that wait for the WSGI pool.

A ``ThreadPool``'s queue has no limit: when slow views hold every thread,
each new request waits behind them, however long that takes. This resource
answers 503 at once, from the reactor thread, when the pool's threads and
``max_queue`` waiting places are all taken; the client may come back later.
"""

from twisted.web.resource import Resource

RETRY_AFTER = b"1"  # Seconds.


class BoundedQueue(Resource):
    """Send a request on to ``resource`` only while fewer than ``limit``
    requests are in flight (running or queued); else answer 503."""

    isLeaf = True

    def __init__(self, resource, in_flight, limit):
        super().__init__()
        self.resource = resource
        self.in_flight = in_flight
        self.limit = limit

    def render(self, request):
        if len(self.in_flight) >= self.limit:
            request.setResponseCode(503)
            request.setHeader(b"retry-after", RETRY_AFTER)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"Busy: every thread and place in the queue is taken.\n"
        return self.resource.render(request)
