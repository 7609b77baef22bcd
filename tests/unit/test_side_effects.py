"""Importing the package does nothing: no thread, no logging handler, no
settings, no reactor, no Django configuration. And logbridge.install() adds
its handler once.

Import side effects cannot be seen in this process, where pytest has
imported the package already: the import check runs in a fresh interpreter,
the only subprocess of the unit tests.
"""

import json
import logging
import os
import subprocess
import sys

import pytest

from twistd_django import logbridge

IMPORT_EVERY_MODULE = """
import importlib, json, logging, os, pkgutil, sys, threading
import twistd_django
names = sorted(
    m.name for m in pkgutil.iter_modules(twistd_django.__path__, "twistd_django.")
)
for name in names:
    importlib.import_module(name)
from twistd_django import tripwire
from django.conf import settings
loggers = [logging.getLogger()] + [
    logger for logger in logging.Logger.manager.loggerDict.values()
    if isinstance(logger, logging.Logger)
]
print(json.dumps({
    "modules": names,
    "threads": [t.name for t in threading.enumerate()],
    "handlers": [repr(h) for logger in loggers for h in logger.handlers],
    "settings_variable": os.environ.get("DJANGO_SETTINGS_MODULE"),
    "reactor_installed": "twisted.internet.reactor" in sys.modules,
    "django_configured": settings.configured,
    "tripwire_installed": tripwire._installed,
}))
"""


@pytest.fixture(scope="module")
def after_import(tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE],
        env=env,
        cwd=tmp_path_factory.mktemp("import-check"),  # Nothing importable here.
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_module_was_imported(after_import):
    modules = set(after_import["modules"])
    for name in ["options", "service", "tap", "writeback", "limits", "tripwire"]:
        assert f"twistd_django.{name}" in modules


def test_importing_starts_no_thread(after_import):
    assert after_import["threads"] == ["MainThread"]


def test_importing_adds_no_logging_handler(after_import):
    assert after_import["handlers"] == []


def test_importing_sets_no_settings_module(after_import):
    assert after_import["settings_variable"] is None


def test_importing_installs_no_reactor(after_import):
    assert after_import["reactor_installed"] is False


def test_importing_does_not_configure_django(after_import):
    assert after_import["django_configured"] is False


def test_importing_installs_no_fork_tripwire(after_import):
    assert after_import["tripwire_installed"] is False


# logbridge.install()


@pytest.fixture
def root_handlers():
    """Restore the root logger's handlers and level after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def bridges(root):
    return [h for h in root.handlers if isinstance(h, logbridge.TwistedLogHandler)]


def test_install_adds_one_handler_to_the_root_logger(root_handlers):
    handler = logbridge.install()
    assert bridges(root_handlers) == [handler]
    assert handler.level == logging.WARNING


def test_install_twice_adds_one_handler_only(root_handlers):
    first = logbridge.install()
    second = logbridge.install(level=logging.INFO)
    assert second is first
    assert bridges(root_handlers) == [first]
    assert first.level == logging.INFO  # The second call's level applies.


def test_a_record_reaches_the_twisted_log_at_its_level(root_handlers, logged):
    logbridge.install()
    logging.getLogger("django.request").error("Internal Server Error: %s", "/x")
    logging.getLogger("django.request").info("not at WARNING")
    (event,) = [e for e in logged if e.get("log_namespace") == "django.request"]
    assert event["log_level"].name == "error"
    assert event["message"] == "Internal Server Error: /x"


def test_a_record_with_a_traceback_carries_the_failure(root_handlers, logged):
    logbridge.install()
    try:
        raise ValueError("view failed")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error")
    (event,) = [e for e in logged if e.get("log_namespace") == "django.request"]
    assert isinstance(event["log_failure"].value, ValueError)
    assert event["log_level"].name == "error"
