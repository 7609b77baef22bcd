"""Requests in flight: send one in a thread, and know when it is running."""

import json
import threading

from .http import get
from .procs import wait_until


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


def busy_workers(port):
    return json.loads(get(port, "/status.json").body)["pool"]["busy"]


def send_and_wait_until_running(daemon, path, timeout=10):
    request = InFlight(daemon.port, path, timeout)
    request.start()
    # /status.json runs in the pool too: 2 busy workers means ours has begun.
    # An event, with a bound for a hang only: it returns as soon as it holds.
    assert wait_until(lambda: busy_workers(daemon.port) >= 2, 20)
    return request
