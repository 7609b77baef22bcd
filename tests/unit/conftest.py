"""Helpers for the unit tests: Twisted's test doubles, and the little they
lack (a Clock that also takes calls from threads, a DummyRequest that a WSGI
response can read)."""

import queue
from io import BytesIO

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import capturedLogs, formatEvent
from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from twistd_django.pool import WSGIPool

WAIT = 10  # The most seconds a test waits for a pool thread (it never sleeps).


class ThreadedClock(Clock):
    """A ``Clock`` that is also a reactor's ``callFromThread``: a call from a
    pool thread is queued, and the test runs it in its own thread, as the
    reactor thread would, with ``run_from_thread``."""

    def __init__(self):
        super().__init__()
        self.from_threads = queue.Queue()

    def callFromThread(self, f, *args, **kwargs):
        self.from_threads.put((f, args, kwargs))

    def run_from_thread(self, timeout=WAIT):
        """Wait (up to ``timeout``) for one call from a thread, and run it.
        Raises ``queue.Empty`` if none comes."""
        f, args, kwargs = self.from_threads.get(timeout=timeout)
        return f(*args, **kwargs)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def threaded_clock():
    return ThreadedClock()


def _pool_maker(build, running):
    """A fixture's factory of real pools, each stopped at teardown if it
    still runs (``running(pool)``)."""
    made = []

    def make(*args, start=False):
        pool = build(*args)
        made.append(pool)
        if start:
            pool.start()
        return pool

    def stop_all():
        for pool in made:
            if running(pool):
                pool.stop()

    return make, stop_all


@pytest.fixture
def pools():
    """Make real ``ThreadPool`` objects: ``pools(minthreads=1,
    maxthreads=1, start=False)``; any that were started are stopped (their
    threads joined) at teardown."""
    make, stop_all = _pool_maker(
        lambda low=1, high=1: ThreadPool(low, high, name="unit-test"),
        lambda pool: pool.started,
    )
    yield make
    stop_all()


@pytest.fixture
def wsgi_pools():
    """Make the package's ``WSGIPool`` objects: ``wsgi_pools(size=1,
    start=False)``, stopped at teardown."""
    make, stop_all = _pool_maker(
        lambda size=1: WSGIPool(size, name="unit-test"), lambda pool: pool.threads
    )
    yield make
    stop_all()


@pytest.fixture
def logged():
    """Every Twisted log event emitted during the test."""
    with capturedLogs() as events:
        yield events


def messages(events):
    """The formatted text of each log event."""
    return [formatEvent(event) for event in events]


def dummy_request(
    path=b"/",
    method=b"GET",
    headers=(),
    body=b"",
    client=("203.0.113.7", 51234),
):
    """A ``DummyRequest`` with what Twisted's WSGI response reads and
    ``DummyRequest`` lacks: ``uri``, ``content``, ``isSecure``, a client
    address, and a ``loseConnection`` that records its calls in ``lost``."""
    segments = path.split(b"?", 1)[0].lstrip(b"/").split(b"/")
    request = DummyRequest(segments if segments != [b""] else [])
    request.uri = path
    request.method = method
    request.clientproto = b"HTTP/1.1"
    request.client = IPv4Address("TCP", *client) if client else None
    for name, value in headers:
        request.requestHeaders.addRawHeader(name, value)
    request.content = BytesIO(body)
    request.isSecure = lambda: False
    request.lost = []
    request.loseConnection = lambda: request.lost.append(True)
    return request


def connect(site):
    """Build ``site``'s protocol and connect it to a ``StringTransport``, as
    Twisted's own HTTP tests do. Returns ``(protocol, transport)``."""
    protocol = site.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


class Recorder(Resource):
    """Answers ``ok``, and keeps the body of each request it sees."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.bodies = []

    def render(self, request):
        self.bodies.append(request.content.read())
        return b"ok"


class Held(Resource):
    """Answers nothing until the test finishes the request."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.requests = []

    def render(self, request):
        self.requests.append(request)
        return NOT_DONE_YET
