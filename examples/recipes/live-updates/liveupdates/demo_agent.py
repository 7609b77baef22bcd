"""A backup agent that reports a snapshot every few seconds, for a demo:
keep the snapshot list open in a browser, and watch the rows arrive.

    python -m liveupdates.demo_agent --server 127.0.0.1:7001 [--every 3] [--count N]

It uses the backup server's line protocol (``backupserver.protocol``), and
stops after ``--count`` reports (default: never), or when killed.
"""

import argparse
import itertools
import random
import socket
import sys
import time

HOSTS = ["web1", "web2", "db1", "mail"]
LABELS = ["/home", "/etc", "/var/lib/postgresql", "/srv/www", "/var/mail"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m liveupdates.demo_agent")
    parser.add_argument("--server", default="127.0.0.1:7001", help="HOST:PORT")
    parser.add_argument("--every", type=float, default=3.0, help="seconds")
    parser.add_argument("--count", type=int, default=None)
    args = parser.parse_args(argv)
    address, _, port = args.server.rpartition(":")
    counter = itertools.count(1) if args.count is None else range(1, args.count + 1)
    with socket.create_connection((address, int(port)), timeout=10) as sock:
        lines = sock.makefile("rwb")

        def ask(text):
            lines.write(text.encode() + b"\n")
            lines.flush()
            answer = lines.readline().decode().rstrip("\n")
            while answer.startswith("PING "):  # Answer the server's pings.
                lines.write(f"PONG {answer[5:]}\n".encode())
                lines.flush()
                answer = lines.readline().decode().rstrip("\n")
            if not answer:
                raise SystemExit("the server closed the connection")
            return answer

        ask("HELLO demo-agent")
        for n in counter:
            if n > 1:
                time.sleep(args.every)
            host, label = random.choice(HOSTS), random.choice(LABELS)
            size = random.randrange(1, 50) * 1024**2
            status = random.choice(["ok"] * 8 + ["failed", "running"])
            answer = ask(f"REPORT {status} {size} {label} ({host})")
            print(answer, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
