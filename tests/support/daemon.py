"""Start a real twistd, daemonized or in the foreground, and stop it."""

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .http import free_port, port_open
from .procs import is_running, kill_hard, read_pid, wait_until

TWISTD = str(Path(sys.executable).parent / "twistd")
START_TIMEOUT = 20
STOP_TIMEOUT = 10
#: Starts again on a new port when the chosen one was taken meanwhile.
PORT_RETRIES = 3
PORT_TAKEN = "Address already in use"


class DaemonError(AssertionError):
    pass


@dataclass
class Twistd:
    """One twistd process, run in ``workdir``, serving on ``port``.

    ``args`` are the twistd arguments after the global options, with
    ``{port}`` where the port goes; the global options (pidfile, logfile,
    ``-n`` for the foreground) are added here.
    """

    workdir: Path
    args: list
    env: dict
    daemonize: bool = True
    port: int = field(default_factory=free_port)
    program: list = field(default_factory=lambda: [TWISTD])
    launcher: subprocess.Popen | None = None
    pid: int | None = None

    @property
    def pidfile(self):
        return self.workdir / "twistd.pid"

    @property
    def logfile(self):
        return self.workdir / "twistd.log"

    def command(self):
        mode = [] if self.daemonize else ["--nodaemon"]
        args = [arg.replace("{port}", str(self.port)) for arg in self.args]
        return [
            *self.program,
            *mode,
            f"--pidfile={self.pidfile}",
            f"--logfile={self.logfile}",
            *args,
        ]

    def log(self):
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return "(no twistd log)"

    def launch(self):
        """Run the twistd command. Returns the launcher's exit status when
        daemonized (the launcher exits once the daemon has started or failed),
        or None in the foreground."""
        env = {**os.environ, **self.env}
        env = {k: v.replace("{port}", str(self.port)) for k, v in env.items()}
        self.launcher = subprocess.Popen(
            self.command(),
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        if not self.daemonize:
            return None
        try:
            self.output, _ = self.launcher.communicate(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.launcher.kill()
            self.output, _ = self.launcher.communicate()
            raise self.error("twistd did not return from daemonizing") from None
        return self.launcher.returncode

    def __post_init__(self):
        self._chosen_port = self.port

    def start(self):
        """Launch twistd, then wait for its pidfile and its port.

        The port that ``free_port()`` chose was free when it was chosen, not
        necessarily when twistd binds it: on a busy machine, or beside
        another test run, some other process may take it in between. When
        twistd then fails with "Address already in use", start again on a
        new port, a few times (only for a port chosen here, not for one a
        test set on purpose)."""
        for attempt in range(PORT_RETRIES + 1):
            try:
                return self._start()
            except DaemonError:
                if not (
                    attempt < PORT_RETRIES
                    and self.port == self._chosen_port
                    and PORT_TAKEN in self.log() + self._output()
                ):
                    raise
            self.kill()
            self.pid = None
            self.pidfile.unlink(missing_ok=True)
            self.logfile.unlink(missing_ok=True)
            self.port = self._chosen_port = free_port()
        raise AssertionError("unreachable")

    def _output(self):
        return (getattr(self, "output", b"") or b"").decode(errors="replace")

    def _start(self):
        status = self.launch()
        if status:
            raise self.error(f"twistd exited with status {status}")
        if not self.wait_for_pidfile():
            raise self.error("no pidfile")
        if not wait_until(self._listening, START_TIMEOUT):
            raise self.error(f"nothing listens on port {self.port}")
        return self

    def wait_for_pidfile(self, timeout=START_TIMEOUT):
        """Wait for the pidfile, or for a twistd in the foreground to exit;
        remember the PID the pidfile holds."""

        def written_or_exited():
            if read_pid(self.pidfile) is not None:
                return True
            return not self.daemonize and self.launcher.poll() is not None

        wait_until(written_or_exited, timeout)
        ok = read_pid(self.pidfile) is not None
        self.pid = read_pid(self.pidfile)
        return ok

    def _listening(self):
        if not self.running():
            raise self.error("twistd exited during startup")
        return port_open(self.port)

    def running(self):
        return self.pid is not None and is_running(self.pid)

    def signal(self, signum):
        os.kill(self.pid, signum)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then assert the process exits and removes its pidfile."""
        if not self.running():
            return
        self.signal(signal.SIGTERM)
        if not self.wait_stopped(timeout):
            raise self.error(f"still running {timeout} s after SIGTERM")

    def wait_stopped(self, timeout):
        """Wait until the process has exited and its pidfile is gone."""
        gone = wait_until(
            lambda: not self.running() and not self.pidfile.exists(), timeout
        )
        if gone and self.launcher is not None and not self.daemonize:
            self.launcher.wait(timeout=timeout)
        return gone

    def kill(self):
        """The finalizer: whatever happened, leave no process behind."""
        pid = self.pid or read_pid(self.pidfile)
        if pid is not None and is_running(pid):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if not wait_until(lambda: not is_running(pid), 5):
                kill_hard(pid)
        if self.launcher is not None and self.launcher.poll() is None:
            self.launcher.kill()
            self.launcher.wait(timeout=5)
        if self.launcher is not None and self.launcher.stdout:
            self.launcher.stdout.close()

    def error(self, message):
        output = getattr(self, "output", b"") or b""
        return DaemonError(
            f"{message}\n$ {' '.join(self.command())}\n"
            f"--- output ---\n{output.decode(errors='replace')}"
            f"--- {self.logfile} ---\n{self.log()}"
        )
