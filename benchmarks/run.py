"""make bench: measure the cookbook's recipes against the peers and the limits.

Every contender serves the example site (DEBUG off, a catalogue of 6
snapshots) in rounds that alternate the order A B C ... then ... C B A, so a
slow spell of this shared machine hits every contender alike. wrk loads each
URL with keep-alive connections from core 1. The raw results go to
benchmarks/results/servers.json; report.py turns them into the tables and
plots of docs/reference/performance.rst.

    python benchmarks/run.py [--rounds 3] [--seconds 3] [--quick]
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import contenders
import loadgen
import machine
import report
import whereitgoes

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "servers.json"
PROFILED = report.PROFILED
PROFILE_SECONDS = 4
SEED = """
from catalogue.models import Host, Snapshot
for h in range(2):
    host = Host.objects.create(name=f"host-{h}.example")
    for s in range(3):
        Snapshot.objects.create(host=host, label=f"/srv/data/{s}",
                                size_bytes=2**30 * (s + 1), status="ok")
"""


def say(message):
    print(message, flush=True)


def prepare(workdir):
    data = workdir / "data"
    env = contenders.base_env(data)
    manage = [sys.executable, str(contenders.SITE / "manage.py")]
    for command in (["migrate"], ["collectstatic"], ["shell", "-c", SEED]):
        extra = [] if command[0] == "shell" else ["--noinput", "-v0"]
        subprocess.run([*manage, *command, *extra], env=env, check=True, timeout=120)
    return data


def paths(running):
    with urllib.request.urlopen(running.url("/"), timeout=5) as answer:
        page = answer.read().decode()
    css = re.search(r'href="(/static/[^"]+\.css)"', page)[1]
    return {
        "plain": "/plain/",
        "page": "/",
        "static": css,
        "wait20": "/slow/?seconds=0.02",
    }


def in_process_limit(data, seconds):
    done = subprocess.run(
        ["taskset", "-c", "0", sys.executable, str(HERE / "inprocess.py"),
         str(seconds), "plain=/plain/", "page=/"],
        env=contenders.base_env(data), capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(running, path, connections, seconds):
    cpu = running.cpu_seconds()
    result = loadgen.run(running.url(path), connections, seconds, core=1)
    cpu = running.cpu_seconds() - cpu
    result["cpu_us_per_request"] = cpu / max(result["requests"], 1) * 1e6
    result["rss_mib"] = running.rss_mib()
    return result


def run_contender(contender, data, workdir, urls, seconds, round_):
    runs = []
    running = contenders.Running(contender, workdir, data, probe_path=urls["plain"])
    try:
        running.warm_up(urls["plain"])
        for endpoint, connections in contender.runs:
            result = measure(running, urls[endpoint], connections, seconds)
            runs.append(
                {
                    "contender": contender.name,
                    "endpoint": endpoint,
                    "connections": connections,
                    "round": round_,
                    **result,
                }
            )
            say(f"  {contender.name:26} {endpoint:6} x{connections:<3}"
                f" {result['rps']:8.0f} req/s  p99 {result['p99_ms']:7.1f} ms"
                f"  errors {result['errors']}")  # fmt: skip
    finally:
        running.stop()
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one short round")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--study", choices=["tail"], help="run a study instead of the contenders:"
        " tail, the p99 at 64 connections against thread counts and switch"
        " intervals (benchmarks/results/tail.json)",
    )  # fmt: skip
    parser.add_argument(
        "--only", help="contenders to run, by name, comma-separated: a partial"
        " run writes --output only, not the tables and plots",
    )  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    loadgen.wrk_path()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    say(f"Preparing the site in {workdir}")
    data = prepare(workdir)
    probe = contenders.Running(contenders.RECOMMENDED, workdir, data)
    try:
        urls = paths(probe)
    finally:
        probe.stop()

    everyone = contenders.CONTENDERS + contenders.SWEEP
    if args.study:
        everyone = contenders.TAIL_STUDY
        if args.output == RESULTS:
            args.output = RESULTS.with_name(f"{args.study}.json")
    if args.only:
        everyone = [c for c in everyone if c.name in args.only.split(",")]
    results = {"machine": machine.describe("gunicorn", "waitress", "granian", "whitenoise"),
               "seconds_per_run": args.seconds, "rounds": args.rounds, "paths": urls,
               "contenders": {c.name: {"label": c.label, "group": c.group,
                                       "cores": list(c.cores),
                                       "processes": len(c.commands),
                                       "runs": [list(run) for run in c.runs],
                                       "sweep": c in contenders.SWEEP}
                              for c in everyone},
               "limit": [], "runs": [], "profile": {}, "study": args.study}  # fmt: skip
    for round_ in range(args.rounds):
        say(f"Round {round_ + 1} of {args.rounds}")
        limit = in_process_limit(data, args.seconds)
        results["limit"].append({"round": round_, **limit})
        say(
            f"  in-process limit: plain {limit['plain']['rps']:.0f} req/s,"
            f" page {limit['page']['rps']:.0f} req/s"
        )
        order = everyone[:: 1 if round_ % 2 == 0 else -1]
        for contender in order:
            results["runs"] += run_contender(
                contender, data, workdir, urls, args.seconds, round_
            )

    say("Profiling the production plugin with py-spy")
    for name in PROFILED if not (args.only or args.study) else ():
        contender = next(c for c in everyone if c.name == name)
        running = contenders.Running(contender, workdir, data)
        try:
            running.warm_up(urls["plain"])
            for endpoint in ("plain", "page"):
                out = workdir / f"profile-{name}-{endpoint}"
                shares = whereitgoes.profile(
                    running, urls[endpoint], 16, PROFILE_SECONDS, out
                )
                results["profile"][f"{name}/{endpoint}"] = shares
                say(
                    f"  {name} {endpoint}: "
                    + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
                )
        finally:
            running.stop()

    results["elapsed_seconds"] = round(time.monotonic() - started)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n")
    say(f"Wrote {args.output} after {results['elapsed_seconds']} s")
    if args.study:
        report.write_study(results)
    elif not args.only:
        report.write(results)


if __name__ == "__main__":
    main()
