"""Requests in flight: send one in a thread, and know when it is running."""

import http.client
import json
import threading

from .http import get
from .procs import wait_until

STATUS_LOGGED = '"GET /status.json '  # In an access-log line, either format.


class InFlight(threading.Thread):
    """One request, sent in a thread, whose outcome the test reads later."""

    def __init__(self, port, path, timeout):
        super().__init__(daemon=True)
        self.port, self.path, self.timeout = port, path, timeout
        self.response = self.error = None

    def run(self):
        try:
            self.response = get(self.port, self.path, timeout=self.timeout)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            self.error = error


def send_and_wait_until_running(daemon, path, timeout=10):
    """Send a GET of ``path`` in a thread; return it once it runs in the pool
    and the daemon has logged every poll that looked for it.

    The polls (``/status.json``, which runs in the pool too: 2 busy workers
    means ours has begun) share one keep-alive connection, because Twisted
    drops the access-log line of a response whose client has closed. Once
    each line is in the twistd log, the reactor thread is not writing one,
    so a stop signal that the test sends next cannot land in that write,
    where Twisted's own handler hangs (docs/explanation/stop-signals.rst).
    That hang is tested on its own; here it would hide what SIGTERM does to
    the request in flight. Every wait is an event, bounded for a hang only.
    """
    request = InFlight(daemon.port, path, timeout)
    logged_before = daemon.log().count(STATUS_LOGGED)
    request.start()
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    polls = 0

    def running():
        nonlocal polls
        conn.request("GET", "/status.json")
        body = conn.getresponse().read()
        polls += 1
        return json.loads(body)["pool"]["busy"] >= 2

    try:
        assert wait_until(running, 20)
        logged = lambda: daemon.log().count(STATUS_LOGGED) >= logged_before + polls  # noqa: E731
        assert wait_until(logged, 10), daemon.log()
    finally:
        conn.close()
    return request
