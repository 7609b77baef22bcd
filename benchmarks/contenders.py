"""The servers under test: how to start each one, and which URLs it serves.

Each runs in the foreground, in its own process group, with the example site
in a scratch data directory. A single-process server is pinned to core 0
(the load generator has core 1); a server with two worker processes gets
both cores, as it would in production.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVERS = Path(__file__).with_name("servers")
SITE = ROOT / "examples" / "site"
MULTICORE = ROOT / "examples" / "recipes" / "multicore"
ALL = ("plain", "page", "static", "wait20")
DJANGO = ("plain", "page", "wait20")  # No static file server.


def twistd(*args):
    return [str(BIN / "twistd"), "--nodaemon", "--pidfile=", "--logfile={log}", *args]


def plugin_args(threads, access_log=True):
    """The recommended options: the access log goes to a file of its own."""
    return [
        "--settings=backupsite.settings",
        "--listen=tcp:{port}:interface=127.0.0.1", f"--threads={threads}",
        *(["--access-log={access_log}"] if access_log else []),
    ]  # fmt: skip


@dataclass
class Contender:
    name: str
    label: str
    group: str  # "ours", "peer" or "ceiling"
    command: list
    serves: tuple = ALL
    env: dict = field(default_factory=dict)
    cores: tuple = (0,)


def plugin(threads, name=None):
    return Contender(
        name or f"plugin-t{threads}",
        f"production plugin, {threads} threads",
        "ours",
        twistd("django", *plugin_args(threads)),
    )


CONTENDERS = [
    Contender(
        "raw-twisted", "raw Twisted resource", "ceiling",
        twistd("-y", str(SERVERS / "raw.tac")), serves=("plain",),
    ),
    plugin(4),
    plugin(10),
    plugin(32),
    Contender(
        "plugin-unbuffered", "production plugin, 10 threads, before tuning", "ours",
        twistd("-y", str(SERVERS / "plugin_unbuffered.tac")),
        env={"PLUGIN_ARGS": " ".join(plugin_args(10, access_log=False))},
    ),
    Contender(
        "plugin-t10-twistd-log",
        "production plugin, 10 threads, access log in the twistd log", "ours",
        twistd("django", *plugin_args(10, access_log=False)),
    ),
    Contender(
        "twistd-web-wsgi", "twistd web --wsgi", "ours",
        twistd("web", "--listen=tcp:{port}:interface=127.0.0.1",
               "--wsgi=peer_wsgi.application"),
    ),
    Contender(
        "tac-getthreadpool", ".tac with reactor.getThreadPool()", "ours",
        twistd("-y", str(ROOT / "examples/variants/reactor-threadpool/web.tac")),
        serves=DJANGO,
    ),
    Contender(
        "multicore-2", "multi-core recipe, 2 workers", "ours",
        twistd("multicore", "--bind=127.0.0.1:{port}", "--workers=2", "--",
               str(BIN / "twistd"), "--nodaemon", "--pidfile=", "--logfile=-",
               "django", "--settings=backupsite.settings",
               "--listen=systemd:domain=INET:name=web", "--threads=10"),
        cores=(0, 1),
    ),
    Contender(
        "gunicorn-sync-1", "gunicorn sync, 1 worker", "peer",
        [str(BIN / "gunicorn"), "-k", "sync", "-w", "1", "-b", "127.0.0.1:{port}",
         "peer_wsgi:application"],
    ),
    Contender(
        "gunicorn-gthread-1", "gunicorn gthread, 1 worker, 10 threads", "peer",
        [str(BIN / "gunicorn"), "-k", "gthread", "-w", "1", "--threads", "10",
         "-b", "127.0.0.1:{port}", "peer_wsgi:application"],
    ),
    Contender(
        "gunicorn-sync-2", "gunicorn sync, 2 workers", "peer",
        [str(BIN / "gunicorn"), "-k", "sync", "-w", "2", "-b", "127.0.0.1:{port}",
         "peer_wsgi:application"],
        cores=(0, 1),
    ),
    Contender(
        "waitress", "waitress, 4 threads", "peer",
        [str(BIN / "waitress-serve"), "--listen=127.0.0.1:{port}",
         "peer_wsgi:application"],
    ),
    Contender(
        "daphne", "daphne, Django's ASGI handler", "peer",
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", "{port}",
         "peer_asgi:application"],
        serves=DJANGO,
    ),
]  # fmt: skip


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(data_dir):
    return {
        **os.environ,
        "BACKUPSITE_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "backupsite.settings",
        "DJANGO_SECRET_KEY": "benchmark-only-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_DEBUG": "",
        "PYTHONPATH": os.pathsep.join(map(str, (SERVERS, SITE, MULTICORE))),
    }


class Running:
    """A started contender: its port, its process tree, and how to stop it."""

    def __init__(self, contender, workdir, data_dir, probe_path="/plain/"):
        self.contender = contender
        self.port = free_port()
        log = workdir / f"{contender.name}.log"
        fill = {
            "port": str(self.port),
            "log": str(log),
            "access_log": str(workdir / f"{contender.name}.access.log"),
        }
        command = [part.format(**fill) for part in contender.command]
        env = {k: v.format(**fill) for k, v in contender.env.items()}
        env = {**base_env(data_dir), **env, "PORT": str(self.port)}
        cores = set(contender.cores)
        self.process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: os.sched_setaffinity(0, cores),
        )
        self.log = log
        self._wait_until_serving(probe_path)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def _wait_until_serving(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.contender.name} exited; see {self.log}")
            try:
                with urllib.request.urlopen(self.url(path), timeout=2) as answer:
                    answer.read()
                # A multi-process server is up when every worker answers.
                if len(self.tree()) >= len(self.contender.cores):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.contender.name} did not serve; see {self.log}")

    def tree(self):
        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self):
        total = 0.0
        for process in self.tree():
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss_mib(self):
        total = 0
        for process in self.tree():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total / 2**20

    def stop(self, timeout=20):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)
        except ProcessLookupError:
            pass
