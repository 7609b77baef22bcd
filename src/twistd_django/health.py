"""Health checks: is the reactor alive, and can the WSGI pool take work?"""

import json

from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET


def pool_stats(pool):
    """What the pool says of itself. A pool without ``queued()`` (a Twisted
    ``ThreadPool``, which keeps that count in a private queue) reports None
    for it."""
    queued = getattr(pool, "queued", None)
    return {
        "workers": pool.workers,
        "busy": len(pool.working),
        "idle": len(pool.waiters),
        "queued": queued() if queued is not None else None,
    }


def _json(request, code, body):
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json")
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(body).encode() + b"\n"


class Live(Resource):
    """Answers from the reactor thread, and never touches the pool."""

    isLeaf = True

    def render_GET(self, request):
        return _json(request, 200, {"live": True})


class Ready(Resource):
    """Sends a no-op through the WSGI pool; 503 if it is not done in time."""

    isLeaf = True

    def __init__(self, pool, timeout, reactor):
        super().__init__()
        self.pool, self.timeout, self.reactor = pool, timeout, reactor

    def render_GET(self, request):
        stats = pool_stats(self.pool)
        state = {"answered": False, "gone": False}
        request.notifyFinish().addErrback(lambda _: state.update(gone=True))

        def answer(code, ready):
            if state["answered"]:
                return
            state["answered"] = True
            if timer.active():
                timer.cancel()
            if not state["gone"]:
                request.write(_json(request, code, {"ready": ready, **stats}))
                request.finish()

        def done(success, result):
            self.reactor.callFromThread(answer, 200, True)

        timer = self.reactor.callLater(self.timeout, answer, 503, False)
        self.pool.callInThreadWithCallback(done, lambda: None)
        return NOT_DONE_YET


def health_resource(pool, timeout, reactor):
    """``live`` and ``ready``, to mount at a prefix such as ``/_twistd/``."""
    health = Resource()
    health.putChild(b"live", Live())
    health.putChild(b"ready", Ready(pool, timeout, reactor))
    return health
