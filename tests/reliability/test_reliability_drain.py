"""SIGTERM under keep-alive load: wrk's 16 connections send back to back to
a view that takes 0.5 s, and SIGTERM comes after 3 s. The daemon must start
no new work, finish what is in flight with ``Connection: close``, log every
response, and exit within its longest request plus a second; gunicorn (sync,
one worker) gets the same load in the same run, for comparison."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.http import free_port, port_open
from support.procs import is_running, wait_until
from support.reliability import PRODUCTION
from support.results import record
from support.site import site_env
from support.steps import SITE

GROUP = "Faults"
CASES = ["sigterm-keep-alive-load", "access-log-during-drain"]
CONNECTIONS = 16
VIEW = "/slow/?seconds=0.5"
SIGTERM_AFTER = 3.0
WRK_SECONDS = 7
GUNICORN = Path(sys.executable).parent / "gunicorn"

# Counts each response in wrk's threads, and writes the totals as JSON to
# $WRK_OUT when wrk is done. A 503 that says "Shutting down" is the answer to
# a request that arrived after SIGTERM, and started no work.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) responses = 0; bad5xx = 0; drain503 = 0; closes = 0 end
function response(status, headers, body)
  responses = responses + 1
  if status >= 500 then
    if body and string.find(body, "Shutting down", 1, true) then
      drain503 = drain503 + 1
    else
      bad5xx = bad5xx + 1
    end
  end
  for name, value in pairs(headers) do
    if string.lower(name) == "connection" and string.lower(value) == "close" then
      closes = closes + 1
    end
  end
end
function done(summary, latency, requests)
  local t = {responses = 0, bad5xx = 0, drain503 = 0, closes = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(t) do t[key] = t[key] + thread:get(key) end
  end
  local f = io.open(os.getenv("WRK_OUT"), "w")
  f:write(string.format(
    '{"responses": %d, "bad_5xx": %d, "drain_503": %d, "closes": %d,' ..
    ' "latency_max_s": %f, "connect_errors": %d, "read_errors": %d,' ..
    ' "timeouts": %d}',
    t.responses, t.bad5xx, t.drain503, t.closes, latency.max / 1e6,
    summary.errors.connect, summary.errors.read, summary.errors.timeout))
  f:close()
end
"""


def need(tool):
    found = shutil.which(tool)
    if not found:
        message = f"{tool} is needed (apt-get install {tool}; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def access_lines(path):
    return len(path.read_text().splitlines()) if path.exists() else 0


class Load:
    """wrk against ``port`` in the background; ``result()`` waits for it."""

    def __init__(self, port, workdir):
        self.script = workdir / "count.lua"
        self.script.write_text(WRK_SCRIPT)
        self.out = workdir / "wrk.json"
        self.process = subprocess.Popen(
            [
                need("wrk"),
                "-t2",
                f"-c{CONNECTIONS}",
                f"-d{WRK_SECONDS}s",
                "--timeout",
                "10s",
                "-s",
                str(self.script),
                f"http://127.0.0.1:{port}{VIEW}",
            ],
            env={**os.environ, "WRK_OUT": str(self.out)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.started = time.monotonic()

    def wait_until(self, seconds):
        time.sleep(max(0, self.started + seconds - time.monotonic()))

    def result(self):
        output, _ = self.process.communicate(timeout=WRK_SECONDS + 30)
        assert self.process.returncode == 0, output
        return json.loads(self.out.read_text()), output


def sigterm_and_time(pid, running=None):
    """SIGTERM ``pid``; the seconds until it has exited (polled every 5 ms)."""
    running = running or (lambda: is_running(pid))
    sent = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    assert wait_until(lambda: not running(), 60, interval=0.005)
    return time.monotonic() - sent


def gunicorn_exit(tmp_path, data):
    """The same load against gunicorn, sync, one worker: its exit time."""
    if not GUNICORN.exists():
        return None
    port = free_port()
    env = site_env(data)
    env["PYTHONPATH"] = str(SITE)
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--workers=1",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{port}",
            "backupsite.wsgi",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: port_open(port), 20), "gunicorn did not start"
        load = Load(port, tmp_path)
        load.wait_until(SIGTERM_AFTER)
        seconds = sigterm_and_time(process.pid, lambda: process.poll() is None)
        stats, _ = load.result()
        return seconds, stats
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_sigterm_under_keep_alive_load(twistd, tmp_path, site_data):
    access = tmp_path / "access.log"
    daemon = twistd(PRODUCTION, extra_args=["--access-log", str(access)])
    load = Load(daemon.port, tmp_path)
    load.wait_until(SIGTERM_AFTER)
    logged_before = access_lines(access)
    exit_s = sigterm_and_time(daemon.pid)
    stats, output = load.result()
    logged = access_lines(access)
    assert not daemon.pidfile.exists()

    assert stats["bad_5xx"] == 0, (stats, output)  # Nothing that had started.
    longest = stats["latency_max_s"]
    assert exit_s <= longest + 1.0, (exit_s, stats)
    during_drain = stats["responses"] - logged_before
    assert stats["closes"] >= 1, stats  # The responses in flight said so.
    assert stats["closes"] <= during_drain + 1, (stats, logged_before)
    # Every response the client got is in the access log, the drain's too.
    assert logged == stats["responses"], (logged, stats)
    assert "Server Shut Down." in daemon.log()

    (tmp_path / "gunicorn").mkdir()
    gunicorn = gunicorn_exit(tmp_path / "gunicorn", site_data)
    figures = {
        "daemon exit s": round(exit_s, 2),
        "longest request s": round(longest, 2),
        "responses": stats["responses"],
        "in the drain, with Connection: close": stats["closes"],
        "503 to requests after SIGTERM": stats["drain_503"],
        "other 5xx": stats["bad_5xx"],
    }
    # gunicorn is in the bench extra; without it, the figure says so.
    figures["gunicorn exit s"] = (
        "not installed" if gunicorn is None else round(gunicorn[0], 2)
    )
    print(f"daemon: {figures}; gunicorn: {gunicorn}")
    record(
        "sigterm-keep-alive-load",
        group=GROUP,
        test="test_reliability_drain.py::test_sigterm_under_keep_alive_load",
        input=f"wrk, {CONNECTIONS} keep-alive connections to a 0.5 s view,"
        f" SIGTERM after {SIGTERM_AFTER:g} s; gunicorn (sync, 1 worker) the same",
        outcome="no new work on open connections; the responses in flight"
        " complete with Connection: close; exit within the longest request + 1 s",
        figures=figures,
    )
    record(
        "access-log-during-drain",
        group=GROUP,
        test="test_reliability_drain.py::test_sigterm_under_keep_alive_load",
        input="the access log of that run, read once the daemon has exited",
        outcome="one line for each response the client received, those of the"
        " drain too (the log stays open until the last connection closes)",
        figures={
            "responses": stats["responses"],
            "access log lines": logged,
            "lines written after SIGTERM": logged - logged_before,
        },
    )
