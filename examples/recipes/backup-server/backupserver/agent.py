"""A minimal backup agent, for trying the server by hand.

    python -m backupserver.agent --host web1 report ok 1048576 /home
    python -m backupserver.agent --host web1 listen [--delay SECONDS]

``report`` sends one finished snapshot and prints the server's answer.
``listen`` stays connected and answers the server's pings, ``--delay``
seconds late, until it is killed.
"""

import argparse
import socket
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m backupserver.agent")
    parser.add_argument("--server", default="127.0.0.1:7001", help="HOST:PORT")
    parser.add_argument("--host", required=True, help="this machine's name")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report")
    report.add_argument("status", choices=["ok", "failed", "running"])
    report.add_argument("size", type=int)
    report.add_argument("label")
    listen = commands.add_parser("listen")
    listen.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)

    address, _, port = args.server.rpartition(":")
    with socket.create_connection((address, int(port)), timeout=10) as sock:
        lines = sock.makefile("rwb")

        def send(text):
            lines.write(text.encode() + b"\n")
            lines.flush()

        def receive():
            line = lines.readline()
            if not line:
                raise SystemExit("the server closed the connection")
            return line.decode().rstrip("\n")

        send(f"HELLO {args.host}")
        if not receive().startswith("OK"):
            raise SystemExit("the server refused HELLO")
        if args.command == "report":
            send(f"REPORT {args.status} {args.size} {args.label}")
            answer = receive()
            print(answer)
            return 0 if answer.startswith("OK") else 1
        sock.settimeout(None)
        while True:
            command, _, token = receive().partition(" ")
            if command == "PING":
                time.sleep(args.delay)
                send(f"PONG {token}")


if __name__ == "__main__":
    sys.exit(main())
