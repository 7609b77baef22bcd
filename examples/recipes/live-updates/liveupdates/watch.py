"""Watch the live snapshots from a terminal, as the page does: log in through
the login form, open the WebSocket with the session cookie, and print each
snapshot pushed.

    python -m liveupdates.watch URL USER --password=PASSWORD [--count=N]
        [--origin=ORIGIN]

It prints ``live`` once the WebSocket is open, a line a snapshot, and how
the server closed it; it stops after ``--count`` snapshots. A refused
handshake prints its status and exits with status 1. It needs only wsproto,
which Twisted's websocket extra brings.
"""

import argparse
import http.cookiejar
import json
import re
import socket
import sys
import urllib.parse
import urllib.request

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)


def log_in(base, user, password):
    """The session cookie, from Django's login form."""
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    with opener.open(f"{base}/accounts/login/", timeout=10) as page:
        html = page.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    form = {"username": user, "password": password, "csrfmiddlewaretoken": token}
    data = urllib.parse.urlencode(form).encode()
    with opener.open(f"{base}/accounts/login/", data=data, timeout=10):
        pass
    session = next((c.value for c in cookies if c.name == "sessionid"), None)
    if session is None:
        raise SystemExit(f"could not log in as {user}")
    return session


def watch(base, session, origin, count, out):
    url = urllib.parse.urlsplit(base)
    ws = WSConnection(ConnectionType.CLIENT)
    with socket.create_connection((url.hostname, url.port or 80), timeout=60) as sock:
        sock.sendall(
            ws.send(
                Request(
                    host=url.netloc,
                    target="/live/",
                    extra_headers=[
                        (b"origin", origin.encode()),
                        (b"cookie", f"sessionid={session}".encode()),
                    ],
                )
            )
        )
        seen, text, status = 0, "", None
        while True:
            data = sock.recv(65536)
            ws.receive_data(data or None)
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    print("live", file=out, flush=True)
                elif isinstance(event, RejectConnection):
                    status = event.status_code
                elif isinstance(event, RejectData):
                    body = event.data.decode().strip()
                    print(f"refused: {body or status}", file=out, flush=True)
                    return 1
                elif isinstance(event, Ping):
                    sock.sendall(ws.send(event.response()))
                elif isinstance(event, TextMessage):
                    text += event.data
                    if not event.message_finished:
                        continue
                    message, text = json.loads(text), ""
                    if message.get("type") == "snapshot":
                        s = message["snapshot"]
                        print(
                            f"snapshot {s['id']}: {s['host']} {s['label']}"
                            f" ({s['status_display']}, {s['size']})".replace(
                                "\xa0", " "
                            ),
                            file=out,
                            flush=True,
                        )
                        seen += 1
                        if count and seen >= count:
                            sock.sendall(ws.send(CloseConnection(1000)))
                            return 0
                elif isinstance(event, CloseConnection):
                    print(f"closed: {event.code} {event.reason}", file=out, flush=True)
                    return 0
            if not data:
                print("closed: the connection ended", file=out, flush=True)
                return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m liveupdates.watch")
    parser.add_argument("url", help="the site, e.g. http://127.0.0.1:8080")
    parser.add_argument("user")
    parser.add_argument("--password", required=True)
    parser.add_argument("--count", type=int, default=0, help="0: until closed")
    parser.add_argument("--origin", help="default: the site's own")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    session = log_in(base, args.user, args.password)
    return watch(base, session, args.origin or base, args.count, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
