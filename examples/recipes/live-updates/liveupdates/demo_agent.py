"""Backup agents that report a snapshot every few seconds, for a demo: keep
the snapshot list open in a browser, and watch the rows arrive.

    python -m liveupdates.demo_agent --server 127.0.0.1:7001 [--every 3] [--count N]

Each report comes from one of a few hosts, over the backup server's line
protocol (``backupserver.protocol``). It stops after ``--count`` reports
(default: never), or when killed.
"""

import argparse
import itertools
import random
import socket
import sys
import time

HOSTS = ["web1", "web2", "db1", "mail"]
LABELS = ["/home", "/etc", "/srv/www", "/var/lib/postgresql", "/var/mail"]


def report(server, host, status, size, label):
    """One agent's session: HELLO, one REPORT; the server's answer."""
    address, _, port = server.rpartition(":")
    with socket.create_connection((address, int(port)), timeout=10) as sock:
        lines = sock.makefile("rwb")
        answers = []
        for line in (f"HELLO {host}", f"REPORT {status} {size} {label}"):
            lines.write(line.encode() + b"\n")
            lines.flush()
            answers.append(lines.readline().decode().rstrip("\n"))
        return answers[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m liveupdates.demo_agent")
    parser.add_argument("--server", default="127.0.0.1:7001", help="HOST:PORT")
    parser.add_argument("--every", type=float, default=3.0, help="seconds")
    parser.add_argument("--count", type=int, default=None)
    args = parser.parse_args(argv)
    numbers = itertools.count(1) if args.count is None else range(1, args.count + 1)
    for n in numbers:
        if n > 1:
            time.sleep(args.every)
        status = random.choice(["ok"] * 6 + ["failed", "running"])
        size = random.randrange(1, 5000) * 1024**2
        answer = report(
            args.server,
            random.choice(HOSTS),
            status,
            size,
            random.choice(LABELS),
        )
        print(answer, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
