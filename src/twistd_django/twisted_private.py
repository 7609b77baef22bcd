"""Every private Twisted name that twistd-django uses, and a check of each.

No public Twisted API serves these needs; each name carries a line saying
why. A Twisted release may rename or change any of them, so ``check()``
runs before the plugin builds its service: if one is missing, or does not
behave as the package expects, twistd refuses to start, with an error that
names the Twisted version and the name. No other module of the package
touches a private Twisted name.
"""

import re
from importlib import metadata

import twisted
from twisted.python.threadpool import ThreadPool
from twisted.web import http, wsgi


class Missing:
    """Stands in for a missing class, so that the package still imports and
    ``check()`` can say what is missing."""


# Why: WSGIResource makes one _WSGIResponse per request and has no public
# way to change how a response is written back or what its environ holds;
# the package's response (writeback.py) subclasses it.
WSGIResponse = getattr(wsgi, "_WSGIResponse", Missing)

# Why: Site's default protocol wraps every HTTPChannel in this class, which
# switches the connection to HTTP/2 when TLS negotiates h2; no public
# factory takes an HTTPChannel subclass and keeps that switch.
GenericHTTPChannelProtocol = getattr(http, "_GenericHTTPChannelProtocol", Missing)


def queued_work(pool):
    """How many calls wait in ``pool`` for a free thread.

    Why: ThreadPool reports its busy and idle threads (``working``,
    ``waiters``) but not the work that waits for one, which only its queue
    shim knows.
    """
    return pool._queue.qsize()


class TwistedIncompatible(SystemExit):
    """twistd exits with status 1 and this message, with no traceback."""

    def __init__(self, name, problem):
        super().__init__(
            f"twistd django: Twisted {twisted.__version__} does not have what"
            f" twistd-django relies on: {name} {problem}. twistd-django"
            f" supports {supported_twisted()}."
        )


def supported_twisted():
    """The Twisted range that the installed package declares."""
    try:
        requires = metadata.requires("twistd-django") or []
    except metadata.PackageNotFoundError:
        return "the Twisted range in its pyproject.toml"
    for requirement in requires:
        spec, _, marker = requirement.partition(";")
        found = re.fullmatch(r"\s*twisted\s*(\[[^\]]*\])?\s*(.*?)\s*", spec, re.I)
        if found and "extra" not in marker:
            return f"Twisted {found.group(2)}"
    return "the Twisted range in its metadata"


def _check_wsgi_response():
    response = getattr(wsgi, "_WSGIResponse", None)
    if response is None or response is not WSGIResponse:
        return "is missing"
    for method in ("startResponse", "write", "run", "start"):
        if not callable(getattr(response, method, None)):
            return f"has no method {method}()"
    try:
        code = response.__init__.__code__
    except AttributeError:
        return "has no __init__"
    expected = ("self", "reactor", "threadpool", "application", "request")
    if code.co_varnames[: code.co_argcount] != expected:
        return f"takes {code.co_varnames[: code.co_argcount]}, not {expected}"
    return None


def _check_generic_channel():
    wrapper = getattr(http, "_GenericHTTPChannelProtocol", None)
    if wrapper is None or wrapper is not GenericHTTPChannelProtocol:
        return "is missing"
    channel = http.HTTPChannel()
    try:
        protocol = wrapper(channel)
        marker = object()
        protocol.requestFactory = marker
        forwarded = channel.requestFactory is marker
    except Exception as error:
        return f"cannot wrap an HTTPChannel ({error!r})"
    if not forwarded:
        return "does not pass its attributes on to the HTTPChannel it wraps"
    return None


def _check_pool_queue():
    try:
        waiting = queued_work(ThreadPool(1, 1))
    except Exception as error:
        return f"is not there ({error!r})"
    if waiting != 0:
        return f"counts {waiting!r} calls in a new pool, not 0"
    return None


ASSUMPTIONS = [
    ("twisted.web.wsgi._WSGIResponse", _check_wsgi_response),
    ("twisted.web.http._GenericHTTPChannelProtocol", _check_generic_channel),
    ("ThreadPool._queue.qsize()", _check_pool_queue),
]


def check():
    """Raise ``TwistedIncompatible`` unless every assumption above holds."""
    for name, assumption in ASSUMPTIONS:
        problem = assumption()
        if problem:
            raise TwistedIncompatible(name, problem)
