"""The WSGI response: Twisted's, with two PEP 3333 fixes and a faster
write-back for a body that is already whole.

Twisted's ``_WSGIResponse`` writes each chunk of the application's iterable
with ``blockingCallFromThread``: the worker thread waits for the reactor
thread once per chunk. A Django ``HttpResponse`` holds its whole body in
memory, so that wait buys nothing: here the worker joins the body and hands
it to the reactor thread with one ``callFromThread``, and moves on. A
streaming response (a generator, ``StreamingHttpResponse``, ``FileResponse``)
is still sent chunk by chunk, as it comes.

The fixes: the iterable's ``close()`` is called even when iterating it
raises (Twisted skips it, so Django's ``request_finished`` never fires and
the request's database connection and open files stay open); and the
environ has no ``HTTP_CONTENT_TYPE`` or ``HTTP_CONTENT_LENGTH`` beside
``CONTENT_TYPE`` and ``CONTENT_LENGTH`` (Twisted issue 2185).

The status line and headers are turned into bytes in the worker thread,
before anything is handed to the reactor thread: a status or a header that
cannot be sent (or no ``start_response`` at all) fails there, as the
application's error, with a 500 if nothing was sent yet. Raised in the
reactor thread, it would leave the request neither finished nor closed.

docs/explanation/twisted-wsgi-differences.rst lists every way this response
differs from Twisted's, and why.
"""

import sys

from twisted.internet.threads import blockingCallFromThread
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import INTERNAL_SERVER_ERROR

from twistd_django.twisted_private import WSGIResponse

# PEP 3333: CGI names, never also as HTTP_ variables.
NOT_HTTP_VARIABLES = ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH")


class BufferedWSGIResponse(WSGIResponse):
    """Drive one request through the WSGI application, in a pool thread."""

    # A Logger on a class logs under the class's own name, whatever namespace
    # it is given: twistd_django.writeback.BufferedWSGIResponse.
    log = Logger()
    # How a finished response goes back to the reactor thread: a HandBack
    # (twistd_django.handback), which TrackingWSGIResource sets, or else one
    # callFromThread each.
    hand_back = None

    def __init__(self, reactor, threadpool, application, request):
        super().__init__(reactor, threadpool, application, request)
        for name in NOT_HTTP_VARIABLES:
            self.environ.pop(name, None)
        self.gone = False
        request.notifyFinish().addBoth(self._gone)

    def _gone(self, result):
        self.gone = True  # Finished, or the client left: nothing more to send.

    def run(self):
        """Call the application, send its body, and close its iterable
        whatever happens (PEP 3333). This runs in a worker thread."""
        try:
            body = self.application(self.environ, self.startResponse)
        except BaseException:
            return self._failed(*sys.exc_info())
        try:
            whole = b"".join(body) if _is_buffered(body) else self._stream(body)
        except BaseException:
            error = sys.exc_info()
            self._close(body, after_error=True)
            return self._failed(*error)
        try:
            self._close(body)
        except BaseException:
            return self._failed(*sys.exc_info())
        try:
            # ``self.started`` is True once the headers went out with a chunk.
            head = None if self.started else self._head()
        except BaseException:
            return self._failed(*sys.exc_info())
        (self.hand_back or self.reactor.callFromThread)(self._send_whole, head, whole)
        self.started = True

    def write(self, data):
        """The WSGI ``write`` callable, as Twisted's: hand ``data`` to the
        reactor thread and wait until it is written."""
        head = None if self.started else self._head()

        def write_in_reactor():
            if head is not None:
                self._send_head(head)
            self.request.write(data)

        try:
            return blockingCallFromThread(self.reactor, write_in_reactor)
        finally:
            self.started = True

    def _stream(self, body):
        """Send each chunk as it comes, until the client leaves."""
        for chunk in body:
            if chunk:
                self.write(chunk)
            if self.gone:
                break
        return None

    def _close(self, body, after_error=False):
        close = getattr(body, "close", None)
        if close is None:
            return
        if not after_error:
            close()
            return
        try:
            close()
        except BaseException:
            self.log.failure("WSGI application error in close()")

    def _failed(self, kind, value, traceback):
        started, self.started = self.started, True
        self.reactor.callFromThread(self._fail, started, kind, value, traceback)

    def _fail(self, started, kind, value, traceback):
        """As Twisted does: log it, then a 500, or close the connection if
        the headers were sent already."""
        self.log.failure(
            "WSGI application error", failure=Failure(value, kind, traceback)
        )
        if self.gone:
            return
        if started:
            self.request.loseConnection()
        else:
            self.request.setResponseCode(INTERNAL_SERVER_ERROR)
            self.request.finish()

    def _send_whole(self, head, body):
        """Send the status and headers (unless ``head`` is None: they went
        out already), the body, and finish: in the reactor thread."""
        if self.gone:
            return  # The client left; nothing to send to.
        try:
            if head is not None:
                self._send_head(head)
            if body:
                self.request.write(body)
            self.request.finish()
        except BaseException:
            # Nothing else would ever finish this request: close it.
            self.log.failure("WSGI response could not be sent")
            if not self.gone:
                self.request.loseConnection()

    def _head(self):
        """The status and headers that ``start_response`` saved, as the
        bytes to send, made in the worker thread: so that one that cannot be
        sent fails as the application's error (as Twisted does: Latin-1,
        and never the application's Server or Date)."""
        status = getattr(self, "status", None)
        if status is None:
            raise RuntimeError("The WSGI application did not call start_response")
        code, message = status.split(None, 1)
        headers = [
            (name.encode("iso-8859-1"), value.encode("iso-8859-1"))
            for name, value in self.headers
            if name.lower() not in ("server", "date")
        ]
        return int(code), message.encode("iso-8859-1"), headers

    def _send_head(self, head):
        """Put the status and headers on the request (reactor thread)."""
        code, message, headers = head
        self.request.setResponseCode(code, message)
        for name, value in headers:
            self.request.responseHeaders.addRawHeader(name, value)


def _is_buffered(body):
    """Is the whole body already in memory? A list or tuple, or a Django
    response that is not streaming."""
    return isinstance(body, (list, tuple)) or getattr(body, "streaming", None) is False
