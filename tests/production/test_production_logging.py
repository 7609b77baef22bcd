"""One log for Twisted and Django; an access log; SIGUSR1 reopens the log."""

import re
import signal

from support.http import get
from support.logs import requests
from support.procs import wait_until
from support.reliability import exchange
from support.steps import PACKAGE

PRODUCTION = PACKAGE
COMBINED = re.compile(
    r'^(?P<client>\S+) - - \[[^\]]+\] "GET (?P<path>\S+) HTTP/1\.1" (?P<status>\d{3}) '
    r'(?P<size>\d+|-) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)"$'
)
NO_LOGGING_SETTINGS = """
from backupsite.settings import *  # noqa: F403
del LOGGING  # As in a project that never configured logging.
"""


def test_a_500_traceback_reaches_the_twistd_log_without_logging_setting(twistd):
    daemon = twistd(PRODUCTION, start=False)
    (daemon.workdir / "plain_settings.py").write_text(NO_LOGGING_SETTINGS)
    daemon.env["PYTHONPATH"] += f":{daemon.workdir}"
    daemon.args = ["django", "--settings", "plain_settings", "--listen", "tcp:{port}"]
    daemon.start()
    assert get(daemon.port, "/boom/").status == 500
    assert wait_until(lambda: "boom: deliberate failure" in daemon.log(), 5)
    log = daemon.log()
    assert "[django.request#error] Internal Server Error: /boom/" in log
    assert "Traceback (most recent call last):" in log
    assert 'raise RuntimeError("boom: deliberate failure' in log


def access_lines(path):
    return [COMBINED.match(line) for line in path.read_text().splitlines()]


def test_access_log_is_combined_log_format(twistd, tmp_path):
    access = tmp_path / "access.log"
    daemon = twistd(PRODUCTION, extra_args=["--access-log", str(access)])
    get(daemon.port, "/static/catalogue/style.css", headers={"Referer": "http://x/"})
    headers = {"X-Forwarded-For": "203.0.113.9", "User-Agent": "probe/1"}
    get(daemon.port, "/_twistd/live", headers=headers)
    assert wait_until(lambda: access.exists() and len(access_lines(access)) >= 2, 5)
    css, live = access_lines(access)[:2]
    assert css and live, access.read_text()
    assert css["path"] == "/static/catalogue/style.css"
    assert (css["status"], css["referer"]) == ("200", "http://x/")
    assert live["client"] == "127.0.0.1"  # The header is not trusted here.
    assert live["agent"] == "probe/1"


def test_trusted_proxy_header_gives_the_client_address(twistd, tmp_path):
    access = tmp_path / "access.log"
    daemon = twistd(
        PRODUCTION,
        extra_args=["--access-log", str(access), "--trust-proxy", "yes"],
    )
    # The client wrote the first address; the proxy added the last one.
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    get(daemon.port, "/_twistd/live", headers=forwarded)
    assert wait_until(lambda: access.exists() and access.read_text(), 5)
    assert access_lines(access)[0]["client"] == "203.0.113.9"


def test_sigusr1_reopens_the_log(twistd):
    """What logrotate does: move the file, then send SIGUSR1. The daemon
    opens --logfile anew (Twisted's own SIGUSR1 rotation would do nothing
    once the file is moved, and write on into twistd.log.1)."""
    daemon = twistd(PRODUCTION)
    rotated = daemon.logfile.with_name("twistd.log.1")
    daemon.logfile.rename(rotated)
    daemon.signal(signal.SIGUSR1)
    assert wait_until(daemon.logfile.exists, 5)
    get(daemon.port, "/_twistd/live")
    assert wait_until(lambda: "/_twistd/live" in daemon.log(), 5)
    assert "/_twistd/live" not in rotated.read_text()
    assert "Site starting on" in rotated.read_text()


def test_a_whole_response_is_logged_when_the_client_leaves_at_once(twistd, tmp_path):
    access = tmp_path / "access.log"
    daemon = twistd(PRODUCTION, extra_args=["--access-log", str(access)])
    for _ in range(20):
        response = get(daemon.port, "/plain/")  # Has a Content-Length; closes.
        assert response.headers["Content-Length"] == "3"
    assert wait_until(lambda: len(access.read_text().splitlines()) >= 20, 5)
    assert [m["path"] for m in access_lines(access)] == ["/plain/"] * 20


H = b"Host: 127.0.0.1\r\n"
POST = b"POST /snapshots/report/ HTTP/1.1\r\n" + H
# What is sent, and the status it gets: the limits' own answers and
# Twisted's bare 400s, which no Request reports, beside two served requests.
REFUSALS = [
    (b"GET /plain/ HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n", 200),
    (POST + b"Content-Length: 2000\r\n\r\n", 413),  # Over --max-body.
    (POST + b"Content-Length: 10\r\n\r\nabc", 408),  # Past --body-timeout.
    (POST + b"X-Note: a\r\n Transfer-Encoding: chunked\r\n\r\n", 400),  # obs-fold
    (POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
    (b"GARBAGE\r\n\r\n", 400),  # Twisted's parser answers both.
    (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    (b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
    (b"GET /plain/ HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n", 200),
]


def test_the_access_log_has_a_line_for_every_response_refusals_too(twistd, tmp_path):
    """The access log holds as many lines as the clients got responses,
    with the refusals that the limits or Twisted's parser write themselves."""
    access = tmp_path / "access.log"
    extra = ["--access-log", str(access), "--max-body", "1000", "--body-timeout", "1"]
    daemon = twistd(PRODUCTION, extra_args=extra)
    received = []
    for data, expected in REFUSALS:
        status, reply, _ = exchange(daemon.port, data)
        assert status == expected, reply[:200]
        received.append(status)
    assert wait_until(lambda: len(requests(access)) >= len(received), 5)
    daemon.stop()
    logged = requests(access)
    assert sorted(status for _, _, status in logged) == sorted(received)
    assert len(logged) == len(received)
    assert ("POST", "/snapshots/report/", 413) in logged
    assert ("-", "-", 414) in logged  # Its request line never came whole.
