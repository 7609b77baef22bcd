"""The in-process limit: Django's WSGI handler called in a tight loop, with
no server and no socket. No single-process Python server can serve a view
faster than this on one core.

Run by run.py in a process pinned to core 0; prints one JSON line:
requests per second, and seconds per request, for each path.
"""

import io
import json
import sys
import time


def environ(path):
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def measure(application, path, seconds):
    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise RuntimeError(f"{path}: {status}")

    count, deadline = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(20):
            result = application(environ(path), start_response)
            b"".join(result)
            result.close()
        count += 20
    elapsed = time.perf_counter() - started
    return {"rps": count / elapsed, "seconds_per_request": elapsed / count}


def main():
    from django.core.wsgi import get_wsgi_application

    seconds = float(sys.argv[1])
    paths = dict(arg.split("=", 1) for arg in sys.argv[2:])
    application = get_wsgi_application()
    for path in paths.values():
        measure(application, path, 0.3)  # Warm the caches and the templates.
    print(
        json.dumps(
            {name: measure(application, p, seconds) for name, p in paths.items()}
        )
    )


if __name__ == "__main__":
    main()
