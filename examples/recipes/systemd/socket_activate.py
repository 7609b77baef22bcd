"""Socket activation without systemd: bind, then exec a server, as systemd does.

    python socket_activate.py --listen 127.0.0.1:8080 --name web -- \\
        twistd --nodaemon --pidfile= django --listen=systemd:domain=INET:name=web

It binds and listens on each ``--listen`` address, moves the sockets to file
descriptors 3, 4, ..., sets ``LISTEN_FDS`` (how many), ``LISTEN_PID`` (this
process: ``exec`` keeps it) and ``LISTEN_FDNAMES`` (their names, by ``:``),
and replaces itself with the command. Twisted's ``systemd:`` endpoint reads
these variables. For trying a unit's command by hand, and for the tests;
``systemd-socket-activate`` from the systemd package does the same.
"""

import argparse
import os
import socket
import sys

SD_LISTEN_FDS_START = 3


def address(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="socket_activate.py")
    parser.add_argument("--listen", type=address, action="append", required=True)
    parser.add_argument("--name", action="append", default=[])
    parser.add_argument("--backlog", type=int, default=128)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run after --")
    names = args.name + [f"fd{i}" for i in range(len(args.name), len(args.listen))]

    sockets = []
    for host, port in args.listen:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(args.backlog)
        sockets.append(sock)
    for number, sock in enumerate(sockets, SD_LISTEN_FDS_START):
        if sock.fileno() != number:
            os.dup2(sock.fileno(), number, inheritable=True)
        else:
            os.set_inheritable(number, True)
    os.environ.update(
        LISTEN_FDS=str(len(sockets)),
        LISTEN_PID=str(os.getpid()),
        LISTEN_FDNAMES=":".join(names[: len(sockets)]),
    )
    try:
        os.execvp(command[0], command)
    except OSError as error:
        sys.exit(f"socket_activate.py: cannot run {command[0]!r}: {error.strerror}")


if __name__ == "__main__":
    main()
