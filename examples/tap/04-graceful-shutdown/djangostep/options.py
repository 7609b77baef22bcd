"""The command-line options of ``twistd djangostep``."""

import importlib.util
import os

from twisted.python import usage


def thread_count(value):
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"--threads takes a whole number from 1 up, not {value!r}.")
    return int(value)


thread_count.coerceDoc = "A whole number, at least 1."


def drain_seconds(value):
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 3600:
        raise ValueError(f"--drain-timeout takes 0 to 3600 seconds, not {value!r}.")
    return number


drain_seconds.coerceDoc = "Seconds, from 0 to 3600."


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
        [
            "drain-timeout",
            None,
            30.0,
            "On shutdown, wait this long for requests in flight.",
            drain_seconds,
        ],
    ]

    def __init__(self):
        super().__init__()
        self["mounts"] = []

    def opt_mount(self, value):
        """Serve a directory at a URL prefix, as /PREFIX/=DIR (repeatable)."""
        url_prefix, sep, directory = value.partition("=")
        if not sep or not url_prefix.startswith("/") or url_prefix.strip("/") == "":
            raise usage.UsageError(f"--mount: expected /PREFIX/=DIR, not {value!r}.")
        if not os.path.isdir(directory):
            raise usage.UsageError(f"--mount: {directory!r} is not a directory.")
        self["mounts"].append((url_prefix, directory))

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
