"""Twisted's private names: used in one module only, and checked at start."""

import ast
import inspect
import re
from pathlib import Path

import twisted
from twisted.web import http, server, wsgi

from support.steps import PACKAGE, ROOT
from twistd_django import inflight, limits, threadpool, writeback

PACKAGE_DIR = ROOT / "src" / "twistd_django"
PRIVATE_MODULE = PACKAGE_DIR / "twisted_private.py"
PYTHON_PRIVATES = {"_exit"}  # os._exit: Python's, not Twisted's.


def private_uses(path):
    """Underscore names taken from Twisted (imports, attributes of anything
    but ``self``, and getattr strings) in one module."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "twisted"
        ):
            found |= {a.name for a in node.names if a.name.startswith("_")}
        elif (
            isinstance(node, ast.Attribute)
            and re.match(r"_[A-Za-z]", node.attr)
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
            and node.attr not in PYTHON_PRIVATES
        ):
            found.add(node.attr)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == "getattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
        ):
            found.add(node.args[1].value)
    return found


def test_private_twisted_names_live_in_one_module():
    modules = sorted(PACKAGE_DIR.rglob("*.py"))
    assert PRIVATE_MODULE in modules
    users = {p.name: private_uses(p) for p in modules if private_uses(p)}
    assert list(users) == ["twisted_private.py"], users
    assert {"_WSGIResponse", "_GenericHTTPChannelProtocol"} <= users[
        "twisted_private.py"
    ]


def test_each_private_name_says_why_no_public_api_serves():
    source = PRIVATE_MODULE.read_text()
    names = (
        "_WSGIResponse",
        "_GenericHTTPChannelProtocol",
        "_respondToBadRequestAndDisconnect",
    )
    for name in names:
        at = source.index(name)
        before = source[max(0, source.rfind("\n\n", 0, at)) : at]
        assert "Why:" in before, f"{name} has no 'Why:' line above it"


def test_no_subclass_overrides_a_private_twisted_name():
    """A method or class attribute named like one of Twisted's private ones
    would change Twisted's internals without saying so."""
    pairs = [
        (writeback.BufferedWSGIResponse, wsgi._WSGIResponse),
        (limits.LimitedChannel, http.HTTPChannel),
        (limits.LimitedRequest, server.Request),
        (limits.LimitedSite, server.Site),
        (limits.LimitedProtocol, http._GenericHTTPChannelProtocol),
        (inflight.TrackingWSGIResource, wsgi.WSGIResource),
        (threadpool.DaemonThreadPool, threadpool.ThreadPool),
    ]
    for ours, theirs in pairs:
        own = {n for n in vars(ours) if re.match(r"_[A-Za-z]", n)}
        for base in inspect.getmro(theirs):
            clash = own & {n for n in vars(base) if re.match(r"_[A-Za-z]", n)}
            assert not clash, f"{ours.__name__} overrides {base.__name__}.{clash}"


BREAK_TWISTED = """\
import twisted.web.wsgi
del twisted.web.wsgi._WSGIResponse
"""


def test_the_daemon_refuses_to_start_on_a_twisted_without_a_name(twistd, tmp_path):
    """Twisted as a release without ``_WSGIResponse`` would be: the launcher
    exits 1, with the version and the name on the terminal, and no daemon."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(BREAK_TWISTED)
    daemon = twistd(PACKAGE, start=False)
    daemon.env["PYTHONPATH"] = f"{shim}:{daemon.env['PYTHONPATH']}"
    status = daemon.launch()
    output = daemon.output.decode()
    assert status == 1, output
    assert (
        f"twistd django: Twisted {twisted.__version__} does not have what"
        " twistd-django relies on: twisted.web.wsgi._WSGIResponse is missing."
    ) in output
    assert "supports Twisted " in output
    assert "Traceback" not in output
    assert not Path(daemon.pidfile).exists()
