"""Start one worker: ``python worker_exec.py COMMAND...`` (Linux).

The parent passes the listening socket as file descriptor 3 with LISTEN_FDS
and LISTEN_FDNAMES. This shim, already in the child process, adds the one
variable the parent could not know, LISTEN_PID (its own PID, which ``exec``
keeps), asks the kernel to send it SIGTERM if the parent dies, even of
SIGKILL, so that no worker outlives it, and replaces itself with COMMAND.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(command):
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            sys.exit(f"prctl: {os.strerror(ctypes.get_errno())}")
        # The parent may have died before prctl: then its orphan stops here.
        if str(os.getppid()) != os.environ.get("MULTICORE_PARENT_PID"):
            sys.exit("worker_exec.py: the parent is gone")
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
