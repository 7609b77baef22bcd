"""The command-line options of ``twistd django``, and its config file.

A value comes from the command line if it is given there, else from the
config file (``--config``), else from its environment variable (if it has
one), else from the default below. A recipe's plugin adds options of its
own with ``DjangoOptions.extended``; they are read from the config file too.
"""

import importlib.util
import os
import sys
from dataclasses import dataclass

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


def endpoint(value):
    """A server endpoint description that Twisted (or a plugin, such as
    ``reuseport:``) can parse. Parsing binds nothing and needs no reactor."""
    from twisted.internet.endpoints import serverFromString

    try:
        serverFromString(None, value)
    except (ValueError, TypeError, KeyError, IndexError, OSError) as error:
        raise ValueError(f"{value!r} is not an endpoint: {error}") from None
    return value


@dataclass(frozen=True)
class Parameter:
    """One option: ``--NAME VALUE`` on the command line, ``NAME = VALUE`` in
    the config file. A ``default`` of None means unset."""

    short: str | None
    default: str | None
    help: str
    check: object
    unit: str = ""
    env: str | None = None


PARAMETERS = {
    "settings": Parameter(
        "s",
        None,
        "Django settings module.",
        settings_module,
        "module",
        env="DJANGO_SETTINGS_MODULE",
    ),
    "listen": Parameter(
        "l",
        "tcp:8080:interface=127.0.0.1",
        "Endpoint to listen on, as a Twisted endpoint string.",
        endpoint,
        "endpoint",
    ),
    "static-root": Parameter(
        None,
        None,
        "Directory served at STATIC_URL [default: the STATIC_ROOT setting].",
        existing_dir(),
        "path",
    ),
    "media-root": Parameter(
        None,
        None,
        "Directory served at MEDIA_URL [default: the MEDIA_ROOT setting].",
        text,
        "path",
    ),
    "threads": Parameter(
        "t", "10", "Threads in the WSGI pool.", thread_count, "threads"
    ),
    "drain-timeout": Parameter(
        None,
        "30",
        "On shutdown, wait this long for requests in flight.",
        seconds(0, 3600),
        "seconds",
    ),
    "ready-timeout": Parameter(
        None,
        "2",
        "The readiness check fails if the pool takes longer to answer.",
        seconds(0.1, 60),
        "seconds",
    ),
    "access-log": Parameter(
        None,
        None,
        "Write the access log to this file [default: the twistd log].",
        text,
        "path",
    ),
    "trust-proxy": Parameter(
        None,
        "no",
        "Log the client address from X-Forwarded-For (only behind a proxy).",
        yes_no(),
        "yes/no",
    ),
    "fork-tripwire": Parameter(
        None,
        "yes",
        "Refuse to start if threads were running when twistd forked.",
        yes_no(),
        "yes/no",
    ),
    "db-write-check": Parameter(
        None,
        "no",
        "At start, also check that each database takes a write (CREATE TABLE,"
        " rolled back); needs the CREATE privilege.",
        yes_no(),
        "yes/no",
    ),
    "max-body": Parameter(
        None,
        "10485760",
        "Answer 413 to a request body over this many bytes (0: no limit).",
        whole_number(0),
        "bytes",
    ),
    "head-timeout": Parameter(
        None,
        "20",
        "Close a connection whose request line and headers take longer"
        " (0: no deadline).",
        seconds(0, 3600),
        "seconds",
    ),
    "body-timeout": Parameter(
        None,
        "60",
        "Answer 408 and close when a request body is not whole this long"
        " after its headers (0: no deadline).",
        seconds(0, 3600),
        "seconds",
    ),
    "max-queue": Parameter(
        None,
        "100",
        "Answer 503 when this many requests already wait for a thread.",
        whole_number(0),
        "requests",
    ),
}


def option_table(parameters):
    """``usage.Options.optParameters`` rows for ``parameters``."""
    rows = []
    for name, parameter in parameters.items():
        doc = parameter.help
        if parameter.env:
            doc += f" [default: ${parameter.env}]"
        elif parameter.default:
            doc += f" [default: {parameter.default}]"
        rows.append([name, parameter.short, None, doc])
    return rows


class DjangoOptions(usage.Options):
    """The options of ``twistd django``; see ``PARAMETERS``."""

    parameters = PARAMETERS
    optParameters = option_table(PARAMETERS)

    @classmethod
    def extended(cls, name, parameters):
        """A subclass named ``name`` with more options, which the config
        file accepts too (a recipe's plugin uses it)."""
        return type(
            name,
            (cls,),
            {
                "parameters": {**cls.parameters, **parameters},
                "optParameters": option_table(parameters),
            },
        )

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
        # As with manage.py and gunicorn, the project in the current
        # directory is importable without PYTHONPATH.
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        known = self.parameters
        from_file = config.read(self["config"], known) if self["config"] else {}
        for name, parameter in known.items():
            if self[name] is not None:
                source, value = f"--{name}", self[name]
            elif name in from_file:
                source, value = f"{self['config']}: {name}", from_file[name]
            elif parameter.env and os.environ.get(parameter.env):
                source, value = parameter.env, os.environ[parameter.env]
            else:
                source, value = "default", parameter.default
            if value is None:
                continue
            try:
                self[name] = parameter.check(value)
            except ValueError as error:
                raise usage.UsageError(f"{source}: {error}") from None
        if not self["settings"]:
            raise usage.UsageError(
                "No Django settings: pass --settings or set DJANGO_SETTINGS_MODULE."
            )
