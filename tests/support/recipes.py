"""The recipes under examples/recipes/, started with the ``twistd`` fixture.

A recipe builds on the installed twistd-django package: only the recipe's
folder goes on PYTHONPATH, beside the example site.
"""

import os
import socket
import time

from .http import free_port
from .steps import EXAMPLES, ROOT, SITE, Step

RECIPES = EXAMPLES / "recipes"


def recipe_step(slug, args, env=None):
    """A Step-like description of ``examples/recipes/<slug>``."""
    return Step(
        id=f"recipe-{slug}",
        title=slug,
        kind="recipe",
        path=str((RECIPES / slug).relative_to(ROOT)),
        args=list(args),
        daemonized="serves",
        foreground="serves",
        env=dict(env or {}),
    )


def start_recipe(twistd, slug, args, daemonize=True, env=None, start=True):
    """Copy the recipe, and start twistd on it."""
    daemon = twistd(recipe_step(slug, args), daemonize=daemonize, env=env, start=False)
    daemon.env["PYTHONPATH"] = os.pathsep.join([str(daemon.workdir), str(SITE)])
    return daemon.start() if start else daemon


def start_backup_server(twistd, call_timeout, daemonize=True, extra=()):
    """The backup-server recipe on 127.0.0.1, its agents' line protocol on a
    free port of its own (``daemon.agents_port``), two threads for Django and
    two for the ORM."""
    agents = free_port()
    daemon = start_recipe(
        twistd,
        "backup-server",
        [
            "backup-server",
            "--settings=backupserver.settings",
            "--listen=tcp:{port}:interface=127.0.0.1",
            f"--agents=tcp:{agents}:interface=127.0.0.1",
            "--threads=2",
            "--orm-threads=2",
            f"--call-timeout={call_timeout}",
            *extra,
        ],
        daemonize=daemonize,
    )
    daemon.agents_port = agents
    return daemon


class LineClient:
    """A line-protocol client over TCP on 127.0.0.1; every read has a timeout."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def receive(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no line in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode().rstrip("\r")

    def ask(self, line, timeout=5.0):
        self.send(line)
        return self.receive(timeout)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
