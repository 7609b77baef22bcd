"""The fork tripwire: exit before fork() when threads run, unless the
reactor runs already; and install() registers its hook once."""

import io
import os
import sys
import threading

import pytest

from twistd_django import tripwire


class Exited(Exception):
    pass


@pytest.fixture
def exits(monkeypatch):
    """os._exit raises instead, and stderr is captured: returns the record."""
    record = {"stderr": io.StringIO(), "codes": []}

    def fake_exit(code):
        record["codes"].append(code)
        raise Exited(code)

    monkeypatch.setattr(os, "_exit", fake_exit)
    monkeypatch.setattr(sys, "__stderr__", record["stderr"])
    monkeypatch.delitem(sys.modules, "twisted.internet.reactor", raising=False)
    return record


@pytest.fixture
def a_thread():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="early-pool-thread")
    thread.start()
    yield thread
    stop.set()
    thread.join(timeout=10)


def test_a_running_thread_before_fork_exits_with_status_1(exits, a_thread):
    with pytest.raises(Exited):
        tripwire._before_fork()
    assert exits["codes"] == [1]
    message = exits["stderr"].getvalue()
    assert message.startswith("ForkTripwire: threads were running")
    assert "early-pool-thread" in message
    assert "twistd -n" in message


def test_no_thread_before_fork_passes(exits, monkeypatch):
    monkeypatch.setattr(tripwire, "running_threads", lambda: [])
    tripwire._before_fork()
    assert exits["codes"] == []
    assert exits["stderr"].getvalue() == ""


def test_a_fork_once_the_reactor_runs_passes(exits, a_thread, monkeypatch):
    class RunningReactor:
        running = True

    monkeypatch.setitem(sys.modules, "twisted.internet.reactor", RunningReactor())
    tripwire._before_fork()
    assert exits["codes"] == []


def test_running_threads_names_all_but_the_main_thread(a_thread):
    names = tripwire.running_threads()
    assert "early-pool-thread" in names
    assert threading.main_thread().name not in names


def test_install_registers_the_hook_once(monkeypatch):
    registered = []
    monkeypatch.setattr(tripwire, "_installed", False)
    monkeypatch.setattr(os, "register_at_fork", lambda **kw: registered.append(kw))
    tripwire.install()
    tripwire.install()
    assert registered == [{"before": tripwire._before_fork}]
