"""Log files that logrotate can move: ReopeningFile, the SIGUSR1 handler,
and the observer that twistd's log goes through."""

import os
import signal

import pytest
from twisted.application.service import Application, MultiService, Service
from twisted.logger import ILogObserver
from twisted.python.logfile import LogFile

from twistd_django import logfile
from twistd_django.logfile import ReopeningFile, reopen_all, twistd_log_path
from twistd_django.service import DjangoService, GivesLogObserver, give_log_observer


def test_twisteds_logfile_rotate_does_nothing_once_the_file_is_moved(tmp_path):
    """What this module is for: LogFile.rotate() returns early when its path
    is gone, and goes on writing into the moved file."""
    log = LogFile.fromFullPath(str(tmp_path / "twistd.log"))
    log.write("before\n")
    os.rename(tmp_path / "twistd.log", tmp_path / "twistd.log.1")
    log.rotate()
    log.write("after\n")
    log.flush()
    assert not (tmp_path / "twistd.log").exists()
    assert (tmp_path / "twistd.log.1").read_text() == "before\nafter\n"
    log.close()


def test_after_a_move_and_reopen_new_lines_go_to_the_new_file(tmp_path):
    path = tmp_path / "access.log"
    log = ReopeningFile(str(path))
    log.write("one\n")
    os.rename(path, tmp_path / "access.log.1")
    log.write("two\n")  # Between logrotate's rename and its signal.
    reopen_all()
    log.write("three\n")
    log.close()
    assert (tmp_path / "access.log.1").read_text() == "one\ntwo\n"
    assert path.read_text() == "three\n"


def test_it_appends_so_copytruncate_leaves_no_hole(tmp_path):
    path = tmp_path / "access.log"
    log = ReopeningFile(str(path))
    log.write("a" * 100 + "\n")
    os.truncate(path, 0)
    log.write("b\n")
    log.close()
    assert path.read_bytes() == b"b\n"


def test_a_failed_reopen_keeps_the_old_file(tmp_path, logged):
    folder = tmp_path / "logs"
    folder.mkdir()
    log = ReopeningFile(str(folder / "access.log"))
    os.rename(folder, tmp_path / "moved")
    log.reopen()  # Its folder is gone: it cannot open the path.
    log.write("kept\n")
    log.close()
    assert (tmp_path / "moved" / "access.log").read_text() == "kept\n"
    assert any("Cannot reopen" in str(e.get("log_format")) for e in logged)


def test_a_closed_file_is_not_reopened(tmp_path):
    log = ReopeningFile(str(tmp_path / "a.log"))
    log.close()
    assert log not in logfile.OPEN
    log.reopen()
    log.write("dropped\n")
    assert (tmp_path / "a.log").read_text() == ""


@pytest.mark.parametrize(
    "options, path",
    [
        ({"logfile": "/var/log/t.log"}, "/var/log/t.log"),
        ({"logfile": ""}, "twistd.log"),
        ({"logfile": "", "nodaemon": True}, None),
        ({"logfile": "-", "nodaemon": True}, None),
        ({"logfile": "t.log", "syslog": True}, None),
        ({"logfile": "t.log", "logger": "my.observer"}, None),
        (None, None),
    ],
)
def test_the_log_goes_where_twistds_options_say(options, path):
    assert twistd_log_path(options) == path


def test_the_service_gives_twistds_application_its_observer():
    application = Application("django")
    service = DjangoService(None, None, None, None)
    observer = object()
    service.log_observer = observer
    service.setServiceParent(application)
    assert application.getComponent(ILogObserver) is observer


def django_service_with(observer):
    service = DjangoService(None, None, None, None)
    service.log_observer = observer
    return service


class TopService(GivesLogObserver, MultiService):
    """A recipe's own top service, as backup-server's StopInOrder."""


def test_a_recipes_top_service_gives_the_application_its_django_services_observer():
    """twistd makes the recipe's top service, not the DjangoService under
    it, the application's child: the top service hands the observer on."""
    application = Application("backup-server")
    observer = object()
    top, middle = TopService(), MultiService()
    Service().setServiceParent(top)  # The ORM pool, the agents' port...
    middle.setServiceParent(top)
    django_service_with(observer).setServiceParent(middle)  # Under a MultiService:
    assert application.getComponent(ILogObserver) is None  # nothing yet.
    top.setServiceParent(application)
    assert application.getComponent(ILogObserver) is observer


def test_a_plain_multiservice_on_top_leaves_the_application_without_it():
    """The gap the mixin closes: twistd would log through its own LogFile."""
    application = Application("recipe")
    top = MultiService()
    django_service_with(object()).setServiceParent(top)
    top.setServiceParent(application)
    assert application.getComponent(ILogObserver) is None


def test_give_log_observer_serves_a_plain_top_service_too():
    application = Application("tac")
    top = MultiService()
    observer = object()
    django_service_with(observer).setServiceParent(top)
    assert give_log_observer(top, application) is observer
    assert application.getComponent(ILogObserver) is observer


def test_an_observer_the_application_has_already_is_kept():
    application = Application("tac")
    own = object()
    application.setComponent(ILogObserver, own)
    top = TopService()
    django_service_with(object()).setServiceParent(top)
    top.setServiceParent(application)
    assert application.getComponent(ILogObserver) is own


def test_no_observer_to_give_sets_none():
    """twistd logs elsewhere (--syslog, --logger, standard output)."""
    application = Application("recipe")
    top = TopService()
    django_service_with(None).setServiceParent(top)
    top.setServiceParent(application)
    assert application.getComponent(ILogObserver) is None
    assert give_log_observer(top, MultiService()) is None  # Not Componentized.


def test_the_signal_handler_reopens_in_the_reactor_thread(threaded_clock):
    before = signal.getsignal(signal.SIGUSR1)
    try:
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)
        assert logfile.install_signal_handler(threaded_clock)
        handler = signal.getsignal(signal.SIGUSR1)
        handler(signal.SIGUSR1, None)
        f, _, _ = threaded_clock.from_threads.get_nowait()
        assert f is reopen_all
        signal.signal(signal.SIGUSR1, lambda *a: None)  # Someone else's.
        assert not logfile.install_signal_handler(threaded_clock)
    finally:
        signal.signal(signal.SIGUSR1, before)
