"""``/live/``: the WebSocket handshake, checked the way Django checks a page.

Twisted's ``WebSocketResource`` upgrades any GET that asks for it, and its
factory must answer at once. This resource sits in front of it, in the
reactor thread, and upgrades only once these have passed, in this order:

1. the request asks for a WebSocket (else 426);
2. its ``Origin`` is the site's own, or one of ``CSRF_TRUSTED_ORIGINS``
   (else 403: another site's page cannot use the visitor's cookie);
3. the daemon accepts more WebSockets (else 503);
4. it carries a session cookie (else 403), whose session and user the ORM
   pool looks up as Django would for a request (``liveupdates.sessions``);
   anonymous, or without the permission: 403;
5. the user has fewer WebSockets than the cap (else 429).

Every refusal is an HTTP response: nothing is sent over a WebSocket before
the checks pass.
"""

from http import HTTPStatus
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.websocket import WebSocketResource

from . import sessions
from .hub import LiveConnection

log = Logger()


class LiveResource(Resource):
    isLeaf = True
    log = log

    def __init__(self, hub):
        super().__init__()
        self.hub = hub
        self.websocket = WebSocketResource(self)

    def buildProtocol(self, request):
        """The factory of ``WebSocketResource``: called once the checks passed."""
        return LiveConnection(self.hub, request.live_viewer)

    def render_GET(self, request):
        if (request.getHeader("upgrade") or "").lower() != "websocket":
            request.setHeader("upgrade", "websocket")
            return refuse(request, 426, "this is a WebSocket endpoint")
        problem = origin_problem(request)
        if problem:
            return refuse(request, 403, problem)
        refused = self.hub.refusal()
        if refused:
            return refuse(request, *refused)
        key = request.getCookie(settings.SESSION_COOKIE_NAME.encode())
        if not key:
            return refuse(request, 403, "log in first")

        gone = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))
        self.hub.pending += 1
        d = self.hub.orm.run(sessions.viewer, key.decode("ascii", "replace"))
        d.addBoth(self.authenticated, request, gone)
        d.addErrback(lambda f: self.log.failure("WebSocket handshake failed", f))
        return NOT_DONE_YET

    def authenticated(self, viewer, request, gone):
        """Back in the reactor thread with the session's user, or a failure."""
        self.hub.pending -= 1
        if gone:  # The client left while its session was looked up.
            return
        if isinstance(viewer, Failure):
            self.log.failure("Session lookup failed", viewer)
            body = refuse(request, 503, "the session could not be checked")
            return finish(body, request)
        if viewer is None:
            return finish(refuse(request, 403, "log in first"), request)
        if not viewer.allowed:
            body = refuse(request, 403, "no permission to see snapshots")
            return finish(body, request)
        refused = self.hub.refusal(viewer)
        if refused:
            return finish(refuse(request, *refused), request)
        request.live_viewer = viewer
        body = self.websocket.render_GET(request)  # Upgrades, or answers 400.
        if body is not NOT_DONE_YET:
            finish(body, request)


def refuse(request, status, reason):
    """An HTTP answer to a handshake: ``status`` and a line of text."""
    log.info(
        "Refused a WebSocket from {peer}: {status} {reason}",
        peer=getattr(request.getClientAddress(), "host", "?"),
        status=status,
        reason=reason,
    )
    request.setResponseCode(status, HTTPStatus(status).phrase.encode())
    request.setHeader("content-type", "text/plain; charset=utf-8")
    if status in (429, 503):
        request.setHeader("retry-after", "5")
    return f"{status} {reason}\n".encode()


def finish(body, request):
    request.write(body)
    request.finish()


def request_scheme(request):
    """The scheme the browser used, as Django's ``request.scheme`` sees it,
    behind a proxy that sets ``SECURE_PROXY_SSL_HEADER``."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        header = meta_name.removeprefix("HTTP_").replace("_", "-").lower()
        value = request.getHeader(header)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return "https" if request.isSecure() else "http"


def origin_problem(request):
    """Why the handshake's ``Origin`` is not one of the site's, or None.

    The rule of Django's CSRF check: the origin is the site's own (the
    scheme, and a ``Host`` in ``ALLOWED_HOSTS``), or one of
    ``CSRF_TRUSTED_ORIGINS``. Browsers always send ``Origin`` on a WebSocket
    handshake, so none is refused too."""
    origin = request.getHeader("origin")
    if not origin:
        return "no Origin header"
    host = request.getHeader("host") or ""
    domain, _ = split_domain_port(host)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if domain and validate_host(domain, allowed_hosts):
        if origin.lower() == f"{request_scheme(request)}://{host}".lower():
            return None
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return None
    parts = urlsplit(origin)
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        trusted_parts = urlsplit(trusted)
        if (
            "*" in trusted_parts.netloc
            and parts.scheme == trusted_parts.scheme
            and is_same_domain(parts.netloc, trusted_parts.netloc.replace("*", "", 1))
        ):
            return None
    return f"foreign Origin {origin[:100]!r}"
