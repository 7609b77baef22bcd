"""Refuse to daemonize a process that already runs threads (Twisted #4347).

A thread started before twistd forks does not exist in the daemon: a thread
pool started then looks healthy and never runs anything. ``install()`` sets a
hook that runs just before ``fork()``: if threads other than the main thread
exist, it names them on the terminal and exits with status 1, before
anything is daemonized. Under ``twistd -n`` nothing forks, so it stays silent.

Run any twistd application with it, even one you cannot edit:

    python -m twistd_django.tripwire [twistd options] -y web.tac
"""

import os
import sys
import threading

MESSAGE = (
    "ForkTripwire: threads were running when twistd forked to daemonize,"
    " and a daemon has none of them: {names}.\n"
    "Start threads, and thread pools, in a service's startService(),"
    " or run with twistd -n.\n"
)


def running_threads():
    main = threading.main_thread()
    return [t.name for t in threading.enumerate() if t is not main and t.is_alive()]


def _reactor_running():
    reactor = sys.modules.get("twisted.internet.reactor")
    return bool(getattr(reactor, "running", False))


def _before_fork():
    if _reactor_running():
        return  # Daemonizing is over: spawnProcess and friends may fork.
    names = running_threads()
    if names:
        (sys.__stderr__ or sys.stderr).write(MESSAGE.format(names=", ".join(names)))
        os._exit(1)


_installed = False


def install():
    global _installed
    if not _installed:
        os.register_at_fork(before=_before_fork)
        _installed = True


if __name__ == "__main__":
    from twisted.scripts.twistd import run

    install()
    sys.argv[0] = "twistd"
    run()
