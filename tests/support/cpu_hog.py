"""Run a command with a CPU hog beside it: one busy process per core.

    python tests/support/cpu_hog.py [--hogs N] -- COMMAND [ARG...]

The hogs run at normal priority (no nice), so the command competes with
them for every core, as it does beside a package install or another build
on a CI machine. They are started before the command and killed, by their
PIDs, when it ends, however it ends (exit, Ctrl-C, SIGTERM). The exit status
is the command's. ``make test-under-load`` runs ``make test`` this way.
"""

import argparse
import os
import signal
import subprocess
import sys

BUSY = "while True: pass"


def start_hogs(count):
    return [
        subprocess.Popen(
            [sys.executable, "-c", BUSY],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop_hogs(hogs):
    for hog in hogs:
        if hog.poll() is None:
            hog.kill()
    for hog in hogs:
        hog.wait()


def run_under_load(command, hogs=None):
    """Run ``command`` with ``hogs`` busy processes (default: one per core);
    return its exit status."""
    count = hogs if hogs is not None else os.cpu_count() or 1
    running = start_hogs(count)

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        print(
            f"cpu_hog: {count} busy process(es) beside: {' '.join(command)}",
            file=sys.stderr,
            flush=True,
        )
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 130
    finally:
        stop_hogs(running)
        signal.signal(signal.SIGTERM, previous)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hogs", type=int, default=None, help="busy processes [default: cores]"
    )
    parser.add_argument("command", nargs="+", help="the command, after --")
    args = parser.parse_args(argv)
    return run_under_load(args.command, args.hogs)


if __name__ == "__main__":
    sys.exit(main())
