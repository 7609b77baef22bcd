"""Compare two ways to serve Django's static files under twistd.

A: the production plugin's SafeFiles, in the reactor thread.
B: WhiteNoise wrapping the WSGI application, so every static request runs in
   the WSGI pool (served by ``twistd web --wsgi``).

Both serve the same collected, hashed stylesheet to the same client: threads
with keep-alive connections, for a fixed time, in rounds that alternate
A, B, A, B. It prints one JSON document: the machine, the versions, each
round's requests per second, and the ratio of the medians.

    python benchmarks/static_files.py [--seconds 5] [--rounds 3] [--clients 8]
"""

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "examples" / "site"
BIN = Path(sys.executable).parent
WHITENOISE_APP = """
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from whitenoise import WhiteNoise

application = WhiteNoise(
    get_wsgi_application(), root=settings.STATIC_ROOT, prefix=settings.STATIC_URL
)
"""


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/plain/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


def start(name, args, env, workdir):
    folder = workdir / name
    folder.mkdir()
    port = free_port()
    command = [
        str(BIN / "twistd"),
        f"--pidfile={folder / 'twistd.pid'}",
        f"--logfile={folder / 'twistd.log'}",
        *[a.replace("{port}", str(port)) for a in args],
    ]
    subprocess.run(command, env=env, cwd=folder, check=True, timeout=30)
    wait_for(port)
    return port, folder / "twistd.pid"


def load(port, path, seconds, clients):
    """Requests per second that ``clients`` keep-alive clients get."""
    counts, errors = [0] * clients, []
    stop = time.monotonic() + seconds

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} errors, for example {errors[0]}")
    return sum(counts) / (time.monotonic() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="static-bench-"))
    (workdir / "whitenoise_app.py").write_text(WHITENOISE_APP)
    env = {
        **os.environ,
        "BACKUPSITE_DATA_DIR": str(workdir / "data"),
        "DJANGO_SECRET_KEY": "benchmark-only-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "backupsite.settings",
        "PYTHONPATH": os.pathsep.join([str(SITE), str(workdir)]),
    }
    manage = [sys.executable, str(SITE / "manage.py")]
    for command in ("migrate", "collectstatic"):
        subprocess.run([*manage, command, "--noinput", "-v0"], env=env, check=True)
    pidfiles = []
    try:
        safe = start(
            "safefiles",
            ["django", "--settings=backupsite.settings", "--listen=tcp:{port}"],
            env,
            workdir,
        )
        white = start(
            "whitenoise",
            ["web", "--listen=tcp:{port}", "--wsgi=whitenoise_app.application"],
            env,
            workdir,
        )
        pidfiles = [safe[1], white[1]]
        conn = http.client.HTTPConnection("127.0.0.1", safe[0], timeout=5)
        conn.request("GET", "/")
        page = conn.getresponse().read().decode()
        css = re.search(r'href="(/static/[^"]+\.css)"', page)[1]
        results = {"safefiles": [], "whitenoise": []}
        for _ in range(args.rounds):
            for name, (port, _) in (("safefiles", safe), ("whitenoise", white)):
                rate = load(port, css, args.seconds, args.clients)
                results[name].append(round(rate, 1))
                print(f"{name}: {rate:.0f} req/s", file=sys.stderr)
    finally:
        for pidfile in pidfiles:
            try:
                os.kill(int(pidfile.read_text()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    print(
        json.dumps(
            {
                "what": f"GET {css.rsplit('.', 2)[0]}...css, {args.clients} "
                f"keep-alive clients, {args.seconds} s per round",
                "machine": machine.describe("whitenoise"),
                "requests_per_second": results,
                "ratio_safefiles_to_whitenoise": round(
                    medians["safefiles"] / medians["whitenoise"], 2
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
