"""logrotate and the recipes whose top service is their own (backup-server's
StopInOrder, live-updates' LiveUpdatesService): after the move and SIGUSR1,
both --logfile and --access-log are opened anew at their paths, and every
line is in one of the files, the old or the new.

Their top service hands the web service's log observer to twistd's
application (twistd_django.service.GivesLogObserver); without it twistd
writes its log through Twisted's LogFile, on into the moved file.
"""

import pytest

from support.http import get
from support.live import start_live
from support.logs import requests, rotate
from support.procs import wait_until
from support.recipes import LineClient, start_backup_server


def start_backup(twistd, extra):
    return start_backup_server(twistd, 1.0, extra=extra)


def start_live_updates(twistd, extra):
    return start_live(twistd, extra=extra)


START = {"backup-server": start_backup, "live-updates": start_live_updates}


def report(daemon, label):
    """An agent reports a snapshot: the daemon logs "Stored snapshot ...",
    before it answers."""
    with LineClient(daemon.agents_port, timeout=10) as agent:
        assert agent.ask("HELLO logs") == "OK hello logs"
        assert agent.ask(f"REPORT ok 1 {label}", timeout=10).startswith("OK ")


def gets(daemon, marker):
    paths = [f"/plain/?{marker}={n}" for n in range(3)]
    for path in paths:
        assert get(daemon.port, path).status == 200
    return [("GET", path, 200) for path in paths]


@pytest.mark.parametrize("recipe", list(START))
def test_sigusr1_after_logrotate_reopens_the_log_and_the_access_log(
    twistd, tmp_path, recipe
):
    access = tmp_path / "access.log"
    daemon = START[recipe](twistd, ["--access-log", str(access)])
    before = gets(daemon, "before")
    report(daemon, "/before-rotation")
    assert wait_until(lambda: requests(access) == before, 5), requests(access)

    old_log, old_access = rotate(daemon, daemon.logfile, access)
    after = gets(daemon, "after")
    report(daemon, "/after-rotation")
    daemon.stop()  # Every line written and flushed at exit.

    assert requests(old_access) == before
    assert requests(access) == after  # None lost, none in the old file.
    old, new = old_log.read_text(), daemon.logfile.read_text()
    assert "Stored snapshot" in old and "/before-rotation" in old
    assert "/after-rotation" not in old
    assert "/before-rotation" not in new
    assert "/after-rotation (ok)" in new
    assert "Server Shut Down." in new
