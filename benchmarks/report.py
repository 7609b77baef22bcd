"""Turn benchmarks/results/servers.json into the tables and plots that
docs/reference/performance.rst includes.

    python benchmarks/report.py        # after editing nothing but the JSON

Ratios are taken round by round (each contender against gunicorn sync with
one worker, or against the in-process limit, measured in the same round),
then the median of the rounds is shown.
"""

import csv
import io
import json
import statistics
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "servers.json"
OUT = HERE.parent / "docs" / "reference" / "performance"
BASELINE = "gunicorn-sync-1"
RECOMMENDED = "plugin-t10"
PEERS_1_CORE = ("gunicorn-sync-1", "gunicorn-gthread-1", "waitress", "daphne")
LEAD = [("plain", 16), ("page", 16), ("static", 16), ("wait20", 16)]
ENDPOINTS = {
    "plain": "plain-text view",
    "page": "template page",
    "static": "static CSS file",
    "wait20": "view that waits 20 ms",
}


def by_round(results):
    """{(contender, endpoint, connections): {round: run}}"""
    table = defaultdict(dict)
    for run in results["runs"]:
        table[run["contender"], run["endpoint"], run["connections"]][run["round"]] = run
    return table


def limits(results):
    return {entry["round"]: entry for entry in results["limit"]}


def median_ratio(numerators, denominators, key="rps"):
    ratios = [
        numerators[r][key] / denominators[r][key]
        for r in numerators
        if r in denominators and denominators[r][key]
    ]
    return statistics.median(ratios) if ratios else None


def spread(values, digits=0):
    values = list(values)
    fmt = f"{{:,.{digits}f}}"
    return (
        f"{fmt.format(statistics.median(values))}"
        f" ({fmt.format(min(values))}–{fmt.format(max(values))})"
    )


def x(value):
    return "–" if value is None else f"{value:.2f}"


def label(results, name):
    return results["contenders"][name]["label"]


def ratio_to_limit(runs, limit, endpoint):
    if endpoint not in ("plain", "page"):
        return None
    return median_ratio(runs, {r: limit[r][endpoint] for r in limit})


def lead_table(results):
    table, limit = by_round(results), limits(results)
    rows = [["server", *[f"{ENDPOINTS[e]}, ×gunicorn" for e, _ in LEAD],
             "plain, of limit", "page, of limit"]]  # fmt: skip
    for name in results["contenders"]:
        base = [table.get((BASELINE, e, c), {}) for e, c in LEAD]
        mine = [table.get((name, e, c), {}) for e, c in LEAD]
        rows.append([
            label(results, name),
            *[x(median_ratio(m, b)) if m else "–" for m, b in zip(mine, base, strict=True)],
            x(ratio_to_limit(mine[0], limit, "plain")) if mine[0] else "–",
            x(ratio_to_limit(mine[1], limit, "page")) if mine[1] else "–",
        ])  # fmt: skip
    return rows


def full_table(results):
    table, limit = by_round(results), limits(results)
    rows = [["server", "URL", "conn.", "req/s: median (min–max)", "×gunicorn",
             "of limit", "p50 ms", "p99 ms", "errors", "RSS MiB", "CPU µs/req"]]  # fmt: skip
    for (name, endpoint, connections), runs in table.items():
        base = table.get((BASELINE, endpoint, connections), {})
        rows.append([
            label(results, name), endpoint, connections,
            spread(r["rps"] for r in runs.values()),
            x(median_ratio(runs, base)), x(ratio_to_limit(runs, limit, endpoint)),
            f"{statistics.median(r['p50_ms'] for r in runs.values()):.1f}",
            f"{statistics.median(r['p99_ms'] for r in runs.values()):.1f}",
            sum(r["errors"] for r in runs.values()),
            f"{statistics.median(r['rss_mib'] for r in runs.values()):.0f}",
            f"{statistics.median(r['cpu_us_per_request'] for r in runs.values()):.0f}",
        ])  # fmt: skip
    return rows


def limit_table(results):
    rows = [["URL", "req/s: median (min–max)", "µs per request"]]
    for endpoint in ("plain", "page"):
        entries = [e[endpoint] for e in results["limit"]]
        rows.append([
            ENDPOINTS[endpoint], spread(e["rps"] for e in entries),
            f"{statistics.median(e['seconds_per_request'] for e in entries) * 1e6:.0f}",
        ])  # fmt: skip
    return rows


def sizing_table(results):
    per = defaultdict(list)
    for run in results["sweep"]:
        per[run["threads"]].append(run)
    return [["threads", "req/s: median (min–max)", "p99 ms", "errors"]] + [
        [threads, spread(r["rps"] for r in runs),
         f"{statistics.median(r['p99_ms'] for r in runs):.0f}",
         sum(r["errors"] for r in runs)]
        for threads, runs in sorted(per.items())
    ]  # fmt: skip


def profile_table(results):
    profile = results["profile"]
    columns = [
        ("plugin-unbuffered/plain", "plain, before"),
        (f"{RECOMMENDED}/plain", "plain, after"),
        ("plugin-unbuffered/page", "page, before"),
        (f"{RECOMMENDED}/page", "page, after"),
    ]
    parts = list(next(iter(profile.values()))) if profile else []
    rows = [["where the samples fell", *[title for _, title in columns]]]
    for part in parts:
        rows.append([part, *[f"{profile[k][part]:.0%}" for k, _ in columns]])
    return rows


TUNING = [
    (
        "plugin-unbuffered",
        "before: each chunk waits for the reactor; access log in the twistd log",
    ),
    ("plugin-t10-twistd-log", "+ buffered responses sent in one call"),
    (RECOMMENDED, "+ access log in a file of its own (--access-log)"),
]


def tuning_table(results):
    table = by_round(results)
    before = TUNING[0][0]
    rows = [["plugin, 10 threads", "plain req/s", "×before", "CPU µs/req",
             "page req/s", "×before"]]  # fmt: skip
    for name, what in TUNING:
        row = [what]
        for endpoint in ("plain", "page"):
            runs, base = table[name, endpoint, 16], table[before, endpoint, 16]
            row += [
                spread(r["rps"] for r in runs.values()),
                x(median_ratio(runs, base)),
            ]
            if endpoint == "plain":
                cpu = statistics.median(r["cpu_us_per_request"] for r in runs.values())
                row.append(f"{cpu:.0f}")
        rows.append(row)
    return rows


def overhead(runs, limit):
    """Per round: the server's CPU per request beyond Django's own time."""
    return {
        r: {"rps": run["cpu_us_per_request"]
            - limit[r]["plain"]["seconds_per_request"] * 1e6}
        for r, run in runs.items() if r in limit
    }  # fmt: skip


def targets(results):
    table, limit = by_round(results), limits(results)

    def runs(name, endpoint, connections):
        return table.get((name, endpoint, connections), {})

    def best_peer(endpoint, connections, key, pick):
        medians = {
            p: statistics.median(r[key] for r in runs(p, endpoint, connections).values())
            for p in PEERS_1_CORE if runs(p, endpoint, connections)
        }  # fmt: skip
        name = pick(medians, key=medians.get)
        return name, medians[name]

    def p99(name, endpoint):
        return statistics.median(r["p99_ms"] for r in runs(name, endpoint, 64).values())

    me = RECOMMENDED
    rows = [["target", "goal", "measured", "met"]]

    def add(text, goal, value, met):
        rows.append([text, goal, value, "yes" if met else "no"])

    ratio = median_ratio(runs(me, "plain", 16), runs("waitress", "plain", 16))
    add("plain-text view, 16 connections, ×waitress", "≥ 1.00", x(ratio), ratio >= 1)
    ratio = ratio_to_limit(runs(me, "page", 16), limit, "page")
    add("template page, 16 connections, of the limit", "≥ 0.80", x(ratio), ratio >= 0.8)
    peer, _ = best_peer("page", 16, "rps", max)
    ratio = median_ratio(runs(me, "page", 16), runs(peer, "page", 16))
    add(f"template page, 16 connections, ×best peer ({label(results, peer)})",
        "≥ 1.00", x(ratio), ratio >= 1)  # fmt: skip
    for endpoint in ("plain", "page"):
        peer, best = best_peer(endpoint, 64, "p99_ms", min)
        mine = p99(me, endpoint)
        add(f"{ENDPOINTS[endpoint]}, 64 connections, p99 ms vs best peer"
            f" ({label(results, peer)})", f"≤ {best:.1f}", f"{mine:.1f}", mine <= best)  # fmt: skip
    ratio = median_ratio(
        overhead(runs(me, "plain", 16), limit),
        overhead(runs("twistd-web-wsgi", "plain", 16), limit),
    )
    add("server CPU per request beyond Django's, ×twistd web --wsgi",
        "≤ 0.60", x(ratio), ratio <= 0.6)  # fmt: skip
    ratio = median_ratio(runs("multicore-2", "plain", 64), runs(me, "plain", 64))
    add("multi-core recipe (2 workers), plain, 64 connections, ×plugin",
        "≥ 1.80", x(ratio), ratio >= 1.8)  # fmt: skip
    ratio = median_ratio(
        runs("multicore-2", "plain", 64), runs("gunicorn-sync-2", "plain", 64)
    )
    add("multi-core recipe (2 workers), plain, 64 connections, ×gunicorn sync 2",
        "≥ 1.00", x(ratio), ratio >= 1)  # fmt: skip
    return rows


def machine_table(results):
    m = results["machine"]
    rows = [["what", "value"]]
    for key in ("date", "cpu", "cores", "python", "twisted", "django", "gunicorn",
                "waitress", "daphne", "whitenoise"):  # fmt: skip
        rows.append([key, m.get(key)])
    rows.append(
        [
            "rounds × seconds a run",
            f"{results['rounds']} × {results['seconds_per_run']}",
        ]
    )
    wrk = max(run["wrk_cpu"] for run in results["runs"])
    rows.append(["wrk's busiest run, share of its core", f"{wrk:.0%}"])
    rows.append(["whole run", f"{results['elapsed_seconds'] / 60:.1f} min"])
    return rows


TABLES = {
    "ratios.csv": lead_table,
    "results.csv": full_table,
    "limit.csv": limit_table,
    "sizing.csv": sizing_table,
    "profile.csv": profile_table,
    "tuning.csv": tuning_table,
    "targets.csv": targets,
    "machine.csv": machine_table,
}


def render(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def tables(results):
    return {name: render(make(results)) for name, make in TABLES.items()}


def plot(results, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lead = lead_table(results)
    names = [row[0] for row in lead[1:]]
    fig, ax = plt.subplots(figsize=(8, 6))
    height = 0.38
    for i, (column, title) in enumerate(((1, "plain-text view"), (2, "template page"))):
        values = [float(row[column]) if row[column] != "–" else 0 for row in lead[1:]]
        ax.barh(
            [n + i * height for n in range(len(names))], values, height, label=title
        )
    ax.set_yticks([n + height / 2 for n in range(len(names))], names)
    ax.invert_yaxis()
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel(
        "requests/s as a multiple of gunicorn sync, 1 worker (16 connections)"
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=100, metadata={"Software": None})
    plt.close(fig)

    per = defaultdict(list)
    for run in results["sweep"]:
        per[run["threads"]].append(run)
    threads = sorted(per)
    fig, left = plt.subplots(figsize=(8, 4))
    rps = [statistics.median(r["rps"] for r in per[t]) for t in threads]
    p99 = [statistics.median(r["p99_ms"] for r in per[t]) for t in threads]
    left.plot(threads, rps, "o-", label="requests/s")
    left.set_xscale("log", base=2)
    left.set_xticks(threads, [str(t) for t in threads])
    left.set_xlabel("--threads (view that waits 20 ms, 64 connections)")
    left.set_ylabel("requests/s")
    right = left.twinx()
    right.plot(threads, p99, "s--", color="tab:red", label="p99 ms")
    right.set_ylabel("p99 latency, ms")
    fig.legend(loc="upper center", ncols=2)
    fig.tight_layout()
    fig.savefig(out / "sizing.png", dpi=100, metadata={"Software": None})
    plt.close(fig)


def write(results, out=OUT):
    out.mkdir(parents=True, exist_ok=True)
    for name, text in tables(results).items():
        (out / name).write_text(text)
    plot(results, out)


if __name__ == "__main__":
    write(json.loads(RESULTS.read_text()))
