"""The parent: bind once, start N workers on the socket, stop them together.

Each worker is a whole ``twistd`` (or any server that reads the ``systemd:``
endpoint's variables) in its own process, with its own reactor, thread pool
and database connections, so the workers use as many cores as there are.
They share one listening socket, inherited as file descriptor 3. Each
worker's reactor waits in epoll for it to become readable, and the workers
it wakes call ``accept()`` in a loop until the queue is empty: the first one
takes every connection that is waiting (docs/howto/use-more-than-one-core.rst).

The parent restarts a worker that dies. On SIGTERM it sends SIGTERM to every
worker, waits until all have exited (SIGKILL after ``stop_timeout``), and
only then exits itself: no worker is left behind. If the parent is killed
outright, each worker gets SIGTERM from the kernel (see worker_exec.py).
"""

import os
import socket
import sys

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger

WORKER_EXEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker_exec.py")
LISTEN_FD = 3
RESTART_DELAY = 1.0


class WorkerProtocol(ProcessProtocol):
    """One worker: its output goes to the parent's log, line by line."""

    def __init__(self, workers, number):
        self.workers = workers
        self.number = number
        self.log = Logger(namespace=f"worker-{number}")
        self.ended = Deferred()
        self.buffers = {1: b"", 2: b""}

    def connectionMade(self):
        self.transport.closeStdin()
        self.workers.log.info(
            "Worker {number} started, PID {pid}", number=self.number, pid=self.pid
        )

    @property
    def pid(self):
        return self.transport.pid if self.transport else None

    def childDataReceived(self, fd, data):
        *lines, self.buffers[fd] = (self.buffers.get(fd, b"") + data).split(b"\n")
        for line in lines:
            self.log.info("{line}", line=line.decode("utf-8", "replace"))

    def processEnded(self, reason):
        self.workers.log.info(
            "Worker {number} ended: {reason}",
            number=self.number,
            reason=reason.getErrorMessage(),
        )
        self.ended.callback(None)
        self.workers.ended(self)


class Workers(Service):
    log = Logger()

    def __init__(self, reactor, address, count, command, name="web", stop_timeout=40):
        self.reactor = reactor
        self.address = address
        self.count = count
        self.command = list(command)
        self.name = name
        self.stop_timeout = stop_timeout
        self.socket = None
        self.running_workers = {}

    def privilegedStartService(self):
        # Before twistd drops privileges (--uid): a port below 1024 works.
        host, port = self.address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.listen(1024)
        self.log.info("Listening on {host}:{port}", host=host, port=port)
        super().privilegedStartService()

    def startService(self):
        super().startService()
        for number in range(1, self.count + 1):
            self.spawn(number)

    def spawn(self, number):
        env = dict(
            os.environ,
            LISTEN_FDS="1",
            LISTEN_FDNAMES=self.name,
            MULTICORE_PARENT_PID=str(os.getpid()),
            MULTICORE_WORKER=str(number),
        )
        env.pop("LISTEN_PID", None)
        protocol = WorkerProtocol(self, number)
        self.reactor.spawnProcess(
            protocol,
            sys.executable,
            [sys.executable, WORKER_EXEC, *self.command],
            env=env,
            childFDs={0: "w", 1: "r", 2: "r", LISTEN_FD: self.socket.fileno()},
        )
        self.running_workers[number] = protocol

    def ended(self, protocol):
        if self.running_workers.get(protocol.number) is protocol:
            del self.running_workers[protocol.number]
        if self.running:
            self.reactor.callLater(RESTART_DELAY, self._restart, protocol.number)

    def _restart(self, number):
        if self.running and number not in self.running_workers:
            self.spawn(number)

    def stopService(self):
        super().stopService()
        workers = list(self.running_workers.values())
        for worker in workers:
            self._signal(worker, "TERM")
        killer = self.reactor.callLater(self.stop_timeout, self._kill_all, workers)
        d = DeferredList([worker.ended for worker in workers])

        def all_ended(_):
            if killer.active():
                killer.cancel()
            self.socket.close()
            self.log.info("All workers ended")

        return d.addCallback(all_ended)

    def _kill_all(self, workers):
        for worker in workers:
            if not worker.ended.called:
                self.log.warn(
                    "Worker {number} did not stop: SIGKILL", number=worker.number
                )
                self._signal(worker, "KILL")

    def _signal(self, worker, name):
        try:
            worker.transport.signalProcess(name)
        except (ProcessExitedAlready, OSError):
            pass  # It has just exited.
