"""Send a WSGI response that is already whole in one call to the reactor.

Twisted's ``_WSGIResponse`` writes each chunk of the application's iterable
with ``blockingCallFromThread``: the worker thread waits for the reactor
thread once per chunk. A Django ``HttpResponse`` holds its whole body in
memory, so that wait buys nothing: here the worker joins the body and hands
it to the reactor thread with one ``callFromThread``, and moves on. A
streaming response (a generator, ``StreamingHttpResponse``, ``FileResponse``)
still goes through Twisted's own loop, chunk by chunk.
"""

from twisted.web.wsgi import _WSGIResponse


class BufferedWSGIResponse(_WSGIResponse):
    """A ``_WSGIResponse`` that sends a buffered body without waiting."""

    def run(self):
        """Call the application once; send a buffered body in one reactor
        call, and leave anything else to Twisted's ``run``.

        This runs in a worker thread of the WSGI pool.
        """
        try:
            body = self.application(self.environ, self.startResponse)
            whole = _read_whole(body) if _is_buffered(body) else None
        except BaseException as error:
            # Twisted's handling: log "WSGI application error", then a 500,
            # or close the connection if the headers were sent already.
            return self._twisted_run(_raising(error))
        if whole is None:
            # Streaming: Twisted's loop sends each chunk as it comes.
            return self._twisted_run(lambda environ, start_response: body)
        # ``self.started`` is True if the application called ``write()``.
        self.reactor.callFromThread(self._send_whole, whole, self.started)
        self.started = True

    def _twisted_run(self, application):
        """Go on with Twisted's ``run``, ``application`` standing in for the
        real one, which must not be called twice."""
        self.application = application
        super().run()

    def _send_whole(self, body, started):
        """Send the status, headers and body, and finish: in the reactor."""
        if self._requestFinished:
            return  # The client left; nothing to send to.
        if not started:
            self._sendResponseHeaders()
        if body:
            self.request.write(body)
        self.request.finish()


def _is_buffered(body):
    """Is the whole body already in memory? A list or tuple, or a Django
    response that is not streaming."""
    return isinstance(body, (list, tuple)) or getattr(body, "streaming", None) is False


def _read_whole(body):
    """Join the chunks, and close the iterable whatever happens (PEP 3333)."""
    try:
        return b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _raising(error):
    """An application that raises ``error``, for Twisted to report."""

    def application(environ, start_response):
        raise error

    return application
