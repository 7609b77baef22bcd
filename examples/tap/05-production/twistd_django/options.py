"""The command-line options of ``twistd django``, and its config file.

A value comes from the command line if it is given there, else from the
config file (``--config``), else from the default below.
"""

import importlib.util
import os

from twisted.python import usage

from twistd_django import config


def thread_count(value):
    if not str(value).isdigit() or int(value) < 1:
        raise ValueError(f"expected a whole number from 1 up, not {value!r}.")
    return int(value)


def whole_number(low):
    def check(value):
        if not str(value).isdigit() or int(value) < low:
            raise ValueError(f"expected a whole number from {low} up, not {value!r}.")
        return int(value)

    return check


def seconds(low, high):
    def check(value):
        try:
            number = float(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise ValueError(f"expected {low} to {high} seconds, not {value!r}.")
        return number

    return check


def existing_dir():
    def check(value):
        if not os.path.isdir(value):
            raise ValueError(f"{value!r} is not a directory.")
        return value

    return check


def settings_module(value):
    try:
        found = importlib.util.find_spec(value)
    except ImportError:
        found = None
    if found is None:
        raise ValueError(f"no module named {value!r}. Is its folder on PYTHONPATH?")
    return value


def yes_no():
    def check(value):
        if str(value).lower() in ("1", "yes", "true", "on"):
            return True
        if str(value).lower() in ("0", "no", "false", "off"):
            return False
        raise ValueError(f"expected yes or no, not {value!r}.")

    return check


def text(value):
    return value


# name: (short option, default, help, check). A default of None means unset.
PARAMETERS = {
    "settings": (
        "s",
        None,
        "Django settings module [default: $DJANGO_SETTINGS_MODULE].",
        settings_module,
    ),
    "listen": (
        "l",
        "tcp:8080:interface=127.0.0.1",
        "Endpoint to listen on, as a Twisted endpoint string.",
        text,
    ),
    "static-root": (
        None,
        None,
        "Directory served at STATIC_URL [default: the STATIC_ROOT setting].",
        existing_dir(),
    ),
    "media-root": (
        None,
        None,
        "Directory served at MEDIA_URL [default: the MEDIA_ROOT setting].",
        text,
    ),
    "threads": ("t", "10", "Threads in the WSGI pool.", thread_count),
    "drain-timeout": (
        None,
        "30",
        "On shutdown, wait this long for requests in flight.",
        seconds(0, 3600),
    ),
    "ready-timeout": (
        None,
        "2",
        "The readiness check fails if the pool takes longer to answer.",
        seconds(0.1, 60),
    ),
    "access-log": (
        None,
        None,
        "Write the access log to this file [default: the twistd log].",
        text,
    ),
    "trust-proxy": (
        None,
        "no",
        "Log the client address from X-Forwarded-For (only behind a proxy).",
        yes_no(),
    ),
    "fork-tripwire": (
        None,
        "yes",
        "Refuse to start if threads were running when twistd forked.",
        yes_no(),
    ),
    "max-body": (
        None,
        "10485760",
        "Answer 413 to a request body over this many bytes (0: no limit).",
        whole_number(0),
    ),
    "head-timeout": (
        None,
        "20",
        "Close a connection whose request line and headers take longer"
        " (0: no deadline).",
        seconds(0, 3600),
    ),
    "max-queue": (
        None,
        "100",
        "Answer 503 when this many requests already wait for a thread.",
        whole_number(0),
    ),
}


class DjangoOptions(usage.Options):
    optParameters = [
        [name, short, None, f"{doc} [default: {default}]" if default else doc]
        for name, (short, default, doc, _) in PARAMETERS.items()
    ]

    def __init__(self):
        super().__init__()
        self["config"] = None
        self["mounts"] = []

    def opt_config(self, path):
        """Read option values from an INI file, section [django]."""
        self["config"] = path

    def opt_mount(self, value):
        """Serve a directory at a URL prefix, as /PREFIX/=DIR (repeatable)."""
        url_prefix, sep, directory = value.partition("=")
        if not sep or not url_prefix.startswith("/") or url_prefix.strip("/") == "":
            raise usage.UsageError(f"--mount: expected /PREFIX/=DIR, not {value!r}.")
        if not os.path.isdir(directory):
            raise usage.UsageError(f"--mount: {directory!r} is not a directory.")
        self["mounts"].append((url_prefix, directory))

    def postOptions(self):
        from_file = config.read(self["config"], PARAMETERS) if self["config"] else {}
        for name, (_, default, _, check) in PARAMETERS.items():
            if self[name] is not None:
                source, value = f"--{name}", self[name]
            elif name in from_file:
                source, value = f"{self['config']}: {name}", from_file[name]
            elif name == "settings" and os.environ.get("DJANGO_SETTINGS_MODULE"):
                source, value = (
                    "DJANGO_SETTINGS_MODULE",
                    os.environ["DJANGO_SETTINGS_MODULE"],
                )
            else:
                source, value = "default", default
            if value is None:
                continue
            try:
                self[name] = check(value)
            except ValueError as error:
                raise usage.UsageError(f"{source}: {error}") from None
        if not self["settings"]:
            raise usage.UsageError(
                "No Django settings: pass --settings or set DJANGO_SETTINGS_MODULE."
            )
