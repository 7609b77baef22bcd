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

# What each contender is measured on: (URL, keep-alive connections).
FULL = (("plain", 16), ("plain", 64), ("page", 16), ("page", 64),
        ("static", 16), ("wait20", 64))  # fmt: skip
CORE = (("plain", 16), ("plain", 64), ("page", 16), ("page", 64))
AT_16 = (("plain", 16), ("page", 16))
DJANGO_AT_64 = (("plain", 64), ("page", 64), ("wait20", 64))


def twistd(*args, log="{log}"):
    return [str(BIN / "twistd"), "--nodaemon", "--pidfile=", f"--logfile={log}", *args]


def plugin_args(
    threads, access_log="{access_log}", listen="tcp:{port}:interface=127.0.0.1"
):
    """The recommended options: the access log goes to a file of its own."""
    return [
        "--settings=backupsite.settings", f"--listen={listen}", f"--threads={threads}",
        *([f"--access-log={access_log}"] if access_log else []),
    ]  # fmt: skip


@dataclass
class Contender:
    name: str
    label: str
    group: str  # "ours", "peer" or "ceiling"
    commands: list  # One command a process; most contenders have one.
    runs: tuple = CORE
    env: dict = field(default_factory=dict)
    cores: tuple = (0,)

    @property
    def serves(self):
        return tuple(dict.fromkeys(endpoint for endpoint, _ in self.runs))


def plugin(threads, name=None, runs=DJANGO_AT_64, switch_interval=None):
    command = twistd("django", *plugin_args(threads))
    label = f"production plugin, {threads} thread{'s' if threads > 1 else ''}"
    if switch_interval is not None:
        command = [sys.executable, str(SERVERS / "switchinterval.py"),
                   str(switch_interval), *command]  # fmt: skip
        label += f", switch interval {switch_interval * 1000:g} ms"
    return Contender(name or f"plugin-t{threads}", label, "ours", [command], runs)


def variant(name, label, undo, access_log):
    """The plugin with one tuning undone (benchmarks/servers/plugin_variant.tac)."""
    args = plugin_args(10, access_log="{access_log}" if access_log else None)
    return Contender(
        name, label, "ours", [twistd("-y", str(SERVERS / "plugin_variant.tac"))],
        AT_16, env={"VARIANT": undo, "PLUGIN_ARGS": " ".join(args)},
    )  # fmt: skip


def reuseport(workers):
    """N ordinary twistd daemons on one port, each with its own listener
    (``reuseport:``), its own log and its own access log."""
    return Contender(
        f"reuseport-{workers}", f"{workers} twistd django daemons, reuseport:",
        "ours",
        [twistd("django", *plugin_args(
            10, access_log=f"{{access_log}}.{n}",
            listen="reuseport:{port}:interface=127.0.0.1"), log=f"{{log}}.{n}")
         for n in range(1, workers + 1)],
        cores=tuple(range(workers)),
    )  # fmt: skip


def gunicorn(kind, workers, threads=None):
    extra = ["--threads", str(threads)] if threads else []
    what = f"gunicorn {kind}, {workers} worker{'s' if workers > 1 else ''}"
    return Contender(
        f"gunicorn-{kind}-{workers}", what + (f", {threads} threads" if threads else ""),
        "peer",
        [[str(BIN / "gunicorn"), "-k", kind, "-w", str(workers), *extra,
          "-b", "127.0.0.1:{port}", "peer_wsgi:application"]],
        FULL if (kind, workers) == ("sync", 1) else CORE,
        cores=tuple(range(workers)),
    )  # fmt: skip


def granian(workers):
    return Contender(
        f"granian-{workers}",
        f"granian (WSGI), {workers} worker{'s' if workers > 1 else ''}", "peer",
        [[str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
          "--port", "{port}", "--workers", str(workers), "--no-ws",
          "peer_wsgi:application"]],
        cores=tuple(range(workers)),
    )  # fmt: skip


RECOMMENDED = plugin(10, runs=FULL)

# Left out, as teaching nothing the others do not: the plugin with 4 and 32
# threads at 16 connections (the pool sweep measures thread counts), the
# .tac on reactor.getThreadPool() (the same bridge as twistd web --wsgi),
# daphne (0.20x gunicorn sync 1 in earlier runs: the cost of Django's ASGI
# adapter, far from every target), and every run at 1 connection.
CONTENDERS = [
    Contender(
        "raw-twisted", "raw Twisted resource", "ceiling",
        [twistd("-y", str(SERVERS / "raw.tac"))], (("plain", 16),),
    ),
    RECOMMENDED,
    variant("plugin-untuned", "plugin before tuning: Twisted's ThreadPool, each"
            " chunk waits for the reactor, access log in the twistd log",
            "unbuffered,twisted-pool", access_log=False),
    variant("plugin-tuned-1", "+ buffered responses sent in one call",
            "twisted-pool,wake-each", access_log=False),
    variant("plugin-tuned-2", "+ access log in a file of its own (--access-log)",
            "twisted-pool,wake-each", access_log=True),
    variant("plugin-tuned-3", "+ one wake-up of the reactor for several responses",
            "twisted-pool", access_log=True),
    Contender(
        "twistd-web-wsgi", "twistd web --wsgi", "ours",
        [twistd("web", "--listen=tcp:{port}:interface=127.0.0.1",
                "--wsgi=peer_wsgi.application")], AT_16,
    ),
    Contender(
        "multicore-2", "multi-core recipe (parent and workers), 2 workers", "ours",
        [twistd("multicore", "--bind=127.0.0.1:{port}", "--workers=2", "--",
                str(BIN / "twistd"), "--nodaemon", "--pidfile=", "--logfile=-",
                "django", "--settings=backupsite.settings",
                "--listen=systemd:domain=INET:name=web", "--threads=10")],
        cores=(0, 1),
    ),
    reuseport(2),
    gunicorn("sync", 1),
    gunicorn("gthread", 1, threads=10),
    gunicorn("sync", 2),
    Contender(
        "waitress", "waitress, 4 threads", "peer",
        [[str(BIN / "waitress-serve"), "--listen=127.0.0.1:{port}",
          "peer_wsgi:application"]], FULL,
    ),
    granian(1),
    granian(2),
]  # fmt: skip

# The tail-latency study (run.py --study tail, benchmarks/results/tail.json):
# thread counts and switch intervals, at 64 connections.
TAIL_STUDY = [
    plugin(threads, name=f"tail-t{threads}-{interval * 1000:g}ms", runs=CORE[1::2],
           switch_interval=interval)
    for threads, interval in ((10, 0.005), (10, 0.002), (10, 0.001), (10, 0.0005),
                              (4, 0.005), (4, 0.001), (2, 0.001), (1, 0.001))
]  # fmt: skip

# The pool sweep and the tail-latency candidates, at 64 connections; the
# plugin with 10 threads is RECOMMENDED, measured with the contenders.
SWEEP = [
    plugin(1),
    plugin(32),
    plugin(10, name="plugin-t10-switch-1ms", runs=CORE[1::2], switch_interval=0.001),
]


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
        env = {k: v.format(**fill) for k, v in contender.env.items()}
        env = {**base_env(data_dir), **env, "PORT": str(self.port)}
        cores = set(contender.cores)
        self.processes = [
            subprocess.Popen(
                [part.format(**fill) for part in command],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=lambda: os.sched_setaffinity(0, cores),
            )
            for command in contender.commands
        ]
        self.log = log
        self._wait_until_serving(probe_path)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def _wait_until_serving(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.processes):
                raise RuntimeError(f"{self.contender.name} exited; see {self.log}")
            try:
                with urllib.request.urlopen(self.url(path), timeout=2) as answer:
                    answer.read()
                if self._every_process_listens():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.contender.name} did not serve; see {self.log}")

    def _every_process_listens(self):
        """A server with worker processes is up when each of them is; one
        with several daemons, when each daemon has its listener."""
        if len(self.processes) == 1:
            return len(self.tree()) >= len(self.contender.cores)
        for process in self.processes:
            try:
                sockets = psutil.Process(process.pid).net_connections("tcp")
            except psutil.NoSuchProcess:
                return False
            if not any(
                s.status == psutil.CONN_LISTEN and s.laddr.port == self.port
                for s in sockets
            ):
                return False
        return True

    def warm_up(self, path, count=50):
        """Enough requests for Django to load its templates and queries."""
        for _ in range(count):
            with urllib.request.urlopen(self.url(path), timeout=5) as answer:
                answer.read()

    def tree(self):
        tree = []
        for process in self.processes:
            try:
                parent = psutil.Process(process.pid)
                tree += [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        return tree

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
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout)
