"""Know which requests are running in the WSGI pool, and wait for them."""

from twisted.internet.defer import Deferred, succeed
from twisted.web.server import NOT_DONE_YET
from twisted.web.wsgi import WSGIResource

from twistd_django.handback import HandBack
from twistd_django.writeback import BufferedWSGIResponse


class InFlight:
    """The set of requests that have started and not yet finished."""

    def __init__(self):
        self._requests = set()
        self._waiting = []

    def __len__(self):
        return len(self._requests)

    def track(self, request):
        self._requests.add(request)
        request.notifyFinish().addBoth(self._finished, request)

    def _finished(self, result, request):
        self._requests.discard(request)
        if not self._requests:
            waiting, self._waiting = self._waiting, []
            for d in waiting:
                if not d.called:  # Not yet timed out.
                    d.callback(True)

    def drained(self, timeout, clock):
        """Fire with True once no request is in flight, or False at timeout."""
        if not self._requests:
            return succeed(True)
        d = Deferred()
        self._waiting.append(d)
        d.addTimeout(timeout, clock, onTimeoutCancel=lambda result, timeout: False)
        return d


class TrackingWSGIResource(WSGIResource):
    """A ``WSGIResource`` that records each request in an ``InFlight`` set,
    and answers it with the package's response (see ``writeback``), whose
    finished responses go back to the reactor through one ``HandBack``."""

    def __init__(self, reactor, threadpool, application, in_flight):
        super().__init__(reactor, threadpool, application)
        self.reactor, self.threadpool, self.application = (
            reactor,
            threadpool,
            application,
        )
        self.in_flight = in_flight
        self.hand_back = HandBack(reactor)

    def render(self, request):
        self.in_flight.track(request)
        # As WSGIResource.render does, with the package's response class.
        response = BufferedWSGIResponse(
            self.reactor, self.threadpool, self.application, request
        )
        response.hand_back = self.hand_back
        response.start()
        return NOT_DONE_YET
