"""Foreground processes for the recipes' tests: started in their own session,
waited for with a timeout, and killed, with their children, at teardown."""

import os
import signal
import subprocess

from .procs import is_running, kill_hard, wait_until


class Foreground:
    """One command run in the foreground, its output in a file."""

    def __init__(self, command, cwd, env, output):
        self.command = [str(part) for part in command]
        self.output = output
        with open(output, "wb") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.process.pid

    def log(self):
        try:
            return open(self.output, errors="replace").read()
        except FileNotFoundError:
            return "(no output)"

    def running(self):
        return self.process.poll() is None

    def terminate(self, timeout=10):
        """SIGTERM; the exit status, or None if it did not exit in time."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        """The finalizer: the process and everything in its session."""
        group = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getsid(int(entry)) == self.pid:
                        group.append(int(entry))
                except OSError:
                    continue
        if self.running():
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for pid in group:
            if is_running(pid):
                wait_until(lambda pid=pid: not is_running(pid), 2)
                kill_hard(pid)
        if self.running():
            self.process.kill()
        self.process.wait(timeout=5)

    def __repr__(self):
        return f"Foreground({' '.join(self.command)!r}, pid={self.pid})"


def foreground_fixture(tmp_path):
    """The body of a ``foreground`` fixture: ``start(command, cwd, env)``."""
    started = []

    def start(command, cwd, env, name=None):
        output = tmp_path / f"{name or 'process'}-{len(started)}.out"
        process = Foreground(command, cwd, env, output)
        started.append(process)
        return process

    return started, start
