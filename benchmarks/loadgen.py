"""Drive a server with wrk, pinned to its own core, and read what it measured.

wrk keeps every connection alive (HTTP/1.1) and records each request's
latency. A Lua ``done`` hook prints its summary as one JSON line. wrk's own
CPU time is read too: a generator that uses much less than its core was not
the bottleneck.
"""

import json
import resource
import shutil
import subprocess
import time
from pathlib import Path

SUMMARY = Path(__file__).with_name("wrk_summary.lua")


def wrk_path():
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(
            "wrk is not installed: `make bench` installs it (apt-get install wrk)."
        )
    return path


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(url, connections, seconds, core):
    """One wrk run: requests/s, latency percentiles (ms), errors, wrk's CPU."""
    command = [
        "taskset", "-c", str(core), wrk_path(),
        "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
        "-s", str(SUMMARY), url,
    ]  # fmt: skip
    cpu, wall = children_cpu(), time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=True
    )
    cpu, wall = children_cpu() - cpu, time.monotonic() - wall
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    elapsed = summary["duration_us"] / 1e6
    errors = summary["errors"]
    return {
        "requests": summary["requests"],
        "rps": summary["requests"] / elapsed,
        "p50_ms": summary["p50_us"] / 1000,
        "p90_ms": summary["p90_us"] / 1000,
        "p99_ms": summary["p99_us"] / 1000,
        "errors": sum(errors.values()),
        "non_2xx": errors["status"],
        "wrk_cpu": cpu / wall,
    }
