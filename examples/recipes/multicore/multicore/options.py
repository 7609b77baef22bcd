"""The options of ``twistd multicore``; the worker's command comes after them."""

import os

from twisted.python import usage


def address(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise usage.UsageError(f"--bind: expected HOST:PORT, not {text!r}.")
    return host.strip("[]"), int(port)


class MulticoreOptions(usage.Options):
    synopsis = "[options] -- COMMAND [ARGUMENTS...]"
    optParameters = [
        ["bind", "b", "127.0.0.1:8080", "Address to listen on, as HOST:PORT."],
        ["workers", "w", str(os.cpu_count() or 1), "How many worker processes."],
        ["name", None, "web", "The socket's name in LISTEN_FDNAMES."],
        [
            "stop-timeout",
            None,
            "40",
            "On SIGTERM, wait this long for the workers, then SIGKILL them.",
        ],
    ]

    def parseArgs(self, *command):
        if not command:
            raise usage.UsageError("no worker command: give it after --")
        self["command"] = list(command)

    def postOptions(self):
        self["bind"] = address(self["bind"])
        if not str(self["workers"]).isdigit() or int(self["workers"]) < 1:
            raise usage.UsageError("--workers: expected a whole number from 1 up.")
        self["workers"] = int(self["workers"])
        try:
            self["stop-timeout"] = float(self["stop-timeout"])
        except ValueError:
            raise usage.UsageError("--stop-timeout: expected seconds.") from None
