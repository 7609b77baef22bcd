"""Call the Twisted side from a Django view, and never wait for ever.

A view runs in a thread of the WSGI pool; the agents live in the reactor
thread. ``blockingCallFromThread`` runs a function in the reactor and waits
for its Deferred, but it waits as long as that takes: an agent that never
answers would hold the view, and its thread, for ever. So the call that
runs in the reactor gets a timeout first (``Deferred.addTimeout``), and
the view gets ``Timeout`` once it passes.

The timeout fires in the reactor thread: it cannot help if the reactor
itself is blocked, which is one more reason for ``backupserver.orm``.
"""

from twisted.internet import defer
from twisted.internet.threads import blockingCallFromThread
from twisted.python.threadable import isInIOThread


class Unavailable(RuntimeError):
    """This process runs no Twisted side (e.g. under another WSGI server)."""


class Timeout(Exception):
    """The Twisted side did not answer in time."""


_side = None


def install(reactor, hub, timeout):
    """Let views call ``hub``, run by ``reactor``, waiting ``timeout`` s at most."""
    global _side
    _side = (reactor, hub, timeout)


def uninstall():
    global _side
    _side = None


def call(method, *args, timeout=None):
    """Run ``hub.<method>(*args)`` in the reactor thread and return its result.

    Raises ``Timeout`` if no result comes within ``timeout`` seconds (default:
    ``--call-timeout``), and whatever the method raised or failed with.
    """
    if _side is None:
        raise Unavailable("no Twisted side in this process")
    reactor, hub, default = _side
    if isInIOThread():
        raise RuntimeError("bridge.call() from the reactor thread would deadlock")
    limit = default if timeout is None else timeout

    def in_reactor():
        d = defer.maybeDeferred(getattr(hub, method), *args)
        d.addTimeout(limit, reactor)

        def timed_out(failure):
            failure.trap(defer.TimeoutError)
            raise Timeout(f"the backup server did not answer within {limit:g} s")

        return d.addErrback(timed_out)

    return blockingCallFromThread(reactor, in_reactor)
