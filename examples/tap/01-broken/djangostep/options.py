"""The command-line options of ``twistd djangostep``."""

import importlib.util
import os

from twisted.python import usage


def thread_count(value):
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"--threads takes a whole number from 1 up, not {value!r}.")
    return int(value)


thread_count.coerceDoc = "A whole number, at least 1."


class DjangoOptions(usage.Options):
    optParameters = [
        [
            "settings",
            "s",
            os.environ.get("DJANGO_SETTINGS_MODULE"),
            "Django settings module [default: $DJANGO_SETTINGS_MODULE].",
        ],
        [
            "listen",
            "l",
            "tcp:8080:interface=127.0.0.1",
            "Endpoint to listen on, as a Twisted endpoint string.",
        ],
        [
            "static-root",
            None,
            None,
            "Directory served at STATIC_URL [default: the STATIC_ROOT setting].",
        ],
        ["threads", "t", 10, "Threads in the WSGI pool.", thread_count],
    ]

    def postOptions(self):
        settings = self["settings"]
        if not settings:
            raise usage.UsageError(
                "No Django settings: pass --settings or set DJANGO_SETTINGS_MODULE."
            )
        try:
            found = importlib.util.find_spec(settings)
        except ImportError:
            found = None
        if found is None:
            raise usage.UsageError(
                f"--settings: no module named {settings!r}."
                " Is its folder on PYTHONPATH?"
            )
        static_root = self["static-root"]
        if static_root is not None and not os.path.isdir(static_root):
            raise usage.UsageError(
                f"--static-root: {static_root!r} is not a directory."
            )
