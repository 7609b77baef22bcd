"""Turn benchmarks/results/servers.json into the tables and plots that
docs/reference/performance.rst includes.

    python benchmarks/report.py        # after editing nothing but the JSON

Every ratio is taken round by round (a contender against gunicorn sync with
one worker, or a peer, or the in-process limit, measured in the same
round). A figure is shown as the median of the rounds with the lowest and
the highest beside it, and a target is met only if it held in every round.
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
MULTICORE = "reuseport-2"  # The recommended multi-core recipe.
# The single-process Python servers the targets compare with; granian, whose
# HTTP layer is Rust, is shown beside them as the distance to such a server.
PYTHON_PEERS = ("gunicorn-sync-1", "gunicorn-gthread-1", "waitress")
ENDPOINTS = {
    "plain": "plain-text view",
    "page": "template page",
    "static": "static CSS file",
    "wait20": "view that waits 20 ms",
}
LEAD = [("plain", 16), ("page", 16), ("static", 16), ("wait20", 64)]
TUNING = [
    ("plugin-untuned", "before: Twisted's ThreadPool; each chunk waits for the"
     " reactor; access log in the twistd log"),
    ("plugin-tuned-1", "+ buffered responses sent in one call"),
    ("plugin-tuned-2", "+ access log in a file of its own (--access-log)"),
    ("plugin-tuned-3", "+ one wake-up of the reactor for several responses"),
    (RECOMMENDED, "+ the package's WSGIPool instead of Twisted's ThreadPool"),
]  # fmt: skip
PROFILED = ("plugin-tuned-2", RECOMMENDED)  # Before and after the hand-off work.
SCALING = [
    ("twistd django", RECOMMENDED, ("reuseport-2", "multicore-2")),
    ("gunicorn sync", "gunicorn-sync-1", ("gunicorn-sync-2",)),
    ("granian", "granian-1", ("granian-2",)),
]
SWEEP = ["plugin-t1", RECOMMENDED, "plugin-t32", "plugin-t10-switch-1ms"]


def by_round(results):
    """{(contender, endpoint, connections): {round: run}}"""
    table = defaultdict(dict)
    for run in results["runs"]:
        table[run["contender"], run["endpoint"], run["connections"]][run["round"]] = run
    return table


def limits(results):
    return {entry["round"]: entry for entry in results["limit"]}


def values(runs, key):
    return {r: run[key] for r, run in runs.items()}


def ratios(numerators, denominators):
    """{round: a / b} for the rounds both have."""
    return {
        r: numerators[r] / denominators[r]
        for r in numerators
        if r in denominators and denominators[r]
    }


def spread(per_round, digits=0):
    """The median of the rounds, and the lowest and highest: '1,234 (1,200–1,250)'."""
    numbers = list(per_round.values() if isinstance(per_round, dict) else per_round)
    if not numbers:
        return "–"
    fmt = f"{{:,.{digits}f}}"
    low, mid, high = min(numbers), statistics.median(numbers), max(numbers)
    return f"{fmt.format(mid)} ({fmt.format(low)}–{fmt.format(high)})"


def median(per_round):
    numbers = list(per_round.values())
    return statistics.median(numbers) if numbers else None


def label(results, name):
    return results["contenders"][name]["label"]


def limit_rps(limit, endpoint):
    return {r: entry[endpoint]["rps"] for r, entry in limit.items()}


class Figures:
    """The results, looked up by contender, URL, connections and round."""

    def __init__(self, results):
        self.results = results
        self.table = by_round(results)
        self.limit = limits(results)

    def runs(self, name, endpoint, connections):
        return self.table.get((name, endpoint, connections), {})

    def of(self, name, endpoint, connections, key="rps"):
        return values(self.runs(name, endpoint, connections), key)

    def best_python_peer(self, endpoint, connections, key="rps", best=max):
        """Per round, the best single-process Python peer's figure."""
        peers = [self.of(p, endpoint, connections, key) for p in PYTHON_PEERS]
        rounds = set.intersection(*(set(p) for p in peers))
        return {r: best(p[r] for p in peers) for r in rounds}

    def overhead(self, name):
        """Per round: the server's CPU per request beyond Django's own time
        for the plain view in process."""
        cpu = self.of(name, "plain", 16, "cpu_us_per_request")
        return {
            r: us - self.limit[r]["plain"]["seconds_per_request"] * 1e6
            for r, us in cpu.items()
            if r in self.limit
        }

    def spread_width(self, name, endpoint, connections):
        rps = list(self.of(name, endpoint, connections).values())
        return (max(rps) - min(rps)) / statistics.median(rps) if rps else None


def lead_table(results):
    f = Figures(results)
    rows = [["server", *[f"{ENDPOINTS[e]} ×{c}, ×gunicorn" for e, c in LEAD],
             "plain, of limit", "page, of limit"]]  # fmt: skip
    for name, about in results["contenders"].items():
        if about.get("sweep"):
            continue
        cells = [
            spread(ratios(f.of(name, e, c), f.of(BASELINE, e, c)), 2) for e, c in LEAD
        ]
        for endpoint in ("plain", "page"):
            cells.append(
                spread(
                    ratios(f.of(name, endpoint, 16), limit_rps(f.limit, endpoint)), 2
                )
            )
        rows.append([label(results, name), *cells])
    return rows


def full_table(results):
    f = Figures(results)
    rows = [["server", "URL", "conn.", "req/s", "×gunicorn", "of limit",
             "p50 ms", "p90 ms", "p99 ms", "errors", "RSS MiB", "CPU µs/req"]]  # fmt: skip
    for (name, endpoint, connections), runs in f.table.items():
        rps = values(runs, "rps")
        of_limit = (
            spread(ratios(rps, limit_rps(f.limit, endpoint)), 2)
            if endpoint in ("plain", "page")
            else "–"
        )
        rows.append([
            label(results, name), endpoint, connections, spread(rps),
            spread(ratios(rps, f.of(BASELINE, endpoint, connections)), 2), of_limit,
            spread(values(runs, "p50_ms"), 1), spread(values(runs, "p90_ms"), 1),
            spread(values(runs, "p99_ms"), 1),
            sum(r["errors"] for r in runs.values()),
            f"{median(values(runs, 'rss_mib')):.0f}",
            spread(values(runs, "cpu_us_per_request")),
        ])  # fmt: skip
    return rows


def latency_rows(results):
    """(name, endpoint, p50, p90, p99): medians at 64 connections."""
    f = Figures(results)
    rows = []
    for name, about in results["contenders"].items():
        if about.get("sweep"):
            continue
        for endpoint in ("plain", "page"):
            runs = f.runs(name, endpoint, 64)
            if runs:
                rows.append((name, endpoint, *(median(values(runs, f"p{p}_ms"))
                                               for p in (50, 90, 99))))  # fmt: skip
    return rows


def latency_table(results):
    rows = [["server", "URL", "p50 ms", "p90 ms", "p99 ms", "p99 / p50"]]
    for name, endpoint, p50, p90, p99 in latency_rows(results):
        rows.append([label(results, name), endpoint, f"{p50:.1f}", f"{p90:.1f}",
                     f"{p99:.1f}", f"{p99 / p50:.1f}"])  # fmt: skip
    return rows


def limit_table(results):
    rows = [["URL", "req/s", "µs per request"]]
    for endpoint in ("plain", "page"):
        entries = {e["round"]: e[endpoint] for e in results["limit"]}
        rows.append([
            ENDPOINTS[endpoint], spread(values(entries, "rps")),
            spread({r: e["seconds_per_request"] * 1e6 for r, e in entries.items()}),
        ])  # fmt: skip
    return rows


def sizing_table(results):
    f = Figures(results)
    rows = [["plugin", "wait20 req/s", "wait20 p99 ms", "plain req/s",
             "plain p99 ms", "page req/s", "page p99 ms"]]  # fmt: skip
    for name in SWEEP:
        row = [label(results, name)]
        for endpoint in ("wait20", "plain", "page"):
            runs = f.runs(name, endpoint, 64)
            row += [spread(values(runs, "rps")), spread(values(runs, "p99_ms"), 1)]
        rows.append(row)
    return rows


def scaling_rows(results):
    """(family, name, processes, endpoint, connections, req/s per round)."""
    f = Figures(results)
    rows = []
    for family, one, more in SCALING:
        for name in (one, *more):
            for endpoint, connections in (("plain", 16), ("plain", 64),
                                          ("page", 16), ("page", 64)):  # fmt: skip
                rows.append((family, name, endpoint, connections,
                             f.of(name, endpoint, connections)))  # fmt: skip
    return rows


def scaling_table(results):
    f = Figures(results)
    rows = [["server", "URL", "conn.", "req/s", "×1 process", "×gunicorn sync 2",
             "spread (max−min)/median"]]  # fmt: skip
    for family, name, endpoint, connections, rps in scaling_rows(results):
        one = next(o for fam, o, _ in SCALING if fam == family)
        width = f.spread_width(name, endpoint, connections)
        rows.append([
            label(results, name), endpoint, connections, spread(rps),
            spread(ratios(rps, f.of(one, endpoint, connections)), 2),
            spread(ratios(rps, f.of("gunicorn-sync-2", endpoint, connections)), 2),
            "–" if width is None else f"{width:.0%}",
        ])  # fmt: skip
    return rows


def profile_table(results):
    profile = results["profile"]
    before, after = PROFILED
    columns = [(f"{before}/plain", "plain, before"), (f"{after}/plain", "plain, after"),
               (f"{before}/page", "page, before"), (f"{after}/page", "page, after")]  # fmt: skip
    parts = list(next(iter(profile.values()))) if profile else []
    rows = [["where the samples fell", *[title for _, title in columns]]]
    for part in parts:
        rows.append([part, *[f"{profile[k][part]:.0%}" for k, _ in columns]])
    return rows


def tuning_table(results):
    f = Figures(results)
    rows = [["plugin, 10 threads, 16 connections", "plain req/s", "×previous row",
             "plain CPU µs/req", "page req/s", "×previous row"]]  # fmt: skip
    previous = None
    for name, what in TUNING:
        row = [what]
        for endpoint in ("plain", "page"):
            rps = f.of(name, endpoint, 16)
            before = f.of(previous, endpoint, 16) if previous else {}
            row += [spread(rps), spread(ratios(rps, before), 2) if before else "–"]
            if endpoint == "plain":
                row.append(spread(f.of(name, endpoint, 16, "cpu_us_per_request")))
        rows.append(row)
        previous = name
    return rows


def target_rows(results):
    """(target, goal, {round: value}, met in every round)."""
    f = Figures(results)
    me, multi = RECOMMENDED, MULTICORE
    rows = []

    def at_least(text, goal, per_round):
        rows.append((text, f"≥ {goal:.2f}", per_round,
                     bool(per_round) and min(per_round.values()) >= goal))  # fmt: skip

    def at_most(text, goal, per_round):
        rows.append((text, f"≤ {goal:.2f}", per_round,
                     bool(per_round) and max(per_round.values()) <= goal))  # fmt: skip

    at_least("template page, 16 connections, of the in-process limit", 0.80,
             ratios(f.of(me, "page", 16), limit_rps(f.limit, "page")))  # fmt: skip
    at_least("template page, 16 connections, ×best single-process Python peer", 1.0,
             ratios(f.of(me, "page", 16), f.best_python_peer("page", 16)))  # fmt: skip
    at_least("plain-text view, 16 connections, ×waitress", 1.0,
             ratios(f.of(me, "plain", 16), f.of("waitress", "plain", 16)))  # fmt: skip
    for endpoint in ("plain", "page"):
        at_most(
            f"{ENDPOINTS[endpoint]}, 64 connections, p99 ×best single-process"
            " Python peer's p99", 1.0,
            ratios(f.of(me, endpoint, 64, "p99_ms"),
                   f.best_python_peer(endpoint, 64, "p99_ms", min)),
        )  # fmt: skip
    at_most("Twisted-side CPU per request (beyond Django's), ×twistd web --wsgi",
            0.60, ratios(f.overhead(me), f.overhead("twistd-web-wsgi")))  # fmt: skip
    for endpoint in ("plain", "page"):
        for connections in (16, 64):
            at_least(
                f"{label(results, multi)}, {ENDPOINTS[endpoint]}, {connections}"
                " connections, ×gunicorn sync 2 workers", 1.0,
                ratios(f.of(multi, endpoint, connections),
                       f.of("gunicorn-sync-2", endpoint, connections)),
            )  # fmt: skip
    widths = [
        f.spread_width(multi, e, c) / f.spread_width("gunicorn-sync-2", e, c)
        for e in ("plain", "page") for c in (16, 64)
        if f.spread_width(multi, e, c) is not None
        and f.spread_width("gunicorn-sync-2", e, c)
    ]  # fmt: skip
    worst = max(widths, default=None)
    rows.append((f"{label(results, multi)}, spread across rounds, ×gunicorn sync 2"
                 " workers' (worst of plain and page at 16 and 64)", "≤ 1.00",
                 {} if worst is None else {0: worst},
                 worst is not None and worst <= 1.0))  # fmt: skip
    return rows


def targets(results):
    rows = [["target", "goal", "measured: median (lowest–highest round)",
             "met in every round"]]  # fmt: skip
    for text, goal, per_round, met in target_rows(results):
        rows.append([text, goal, spread(per_round, 2), "yes" if met else "no"])
    return rows


def machine_table(results):
    m = results["machine"]
    rows = [["what", "value"]]
    for key in ("date", "cpu", "cores", "python", "twisted", "django", "gunicorn",
                "waitress", "granian", "whitenoise"):  # fmt: skip
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
    "targets.csv": targets,
    "ratios.csv": lead_table,
    "latency.csv": latency_table,
    "scaling.csv": scaling_table,
    "results.csv": full_table,
    "limit.csv": limit_table,
    "sizing.csv": sizing_table,
    "profile.csv": profile_table,
    "tuning.csv": tuning_table,
    "machine.csv": machine_table,
}
PLOTS = ("throughput.png", "latency.png", "scaling.png", "sizing.png")


def render(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def tables(results):
    return {name: render(make(results)) for name, make in TABLES.items()}


def _bars(ax, names, series, height, invert=True):
    """Horizontal bars, one group a name, one bar a series; the first name
    on top (``invert`` once for axes that share their y axis)."""
    for i, (title, numbers, errors) in enumerate(series):
        ax.barh([n + i * height for n in range(len(names))], numbers, height,
                xerr=errors, label=title, capsize=2)  # fmt: skip
    ax.set_yticks(
        [n + height * (len(series) - 1) / 2 for n in range(len(names))], names
    )
    if invert:
        ax.invert_yaxis()


def _save(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def _error_bars(per_rounds):
    """matplotlib's xerr: the distance from the median to the lowest and the
    highest round."""
    low, high = [], []
    for per_round in per_rounds:
        numbers = list(per_round.values()) or [0]
        mid = statistics.median(numbers)
        low.append(mid - min(numbers))
        high.append(max(numbers) - mid)
    return [low, high]


def plot_throughput(results, plt, out):
    f = Figures(results)
    variants = {name for name, _ in TUNING} - {RECOMMENDED}
    names = [
        n
        for n, about in results["contenders"].items()
        if not about.get("sweep") and n not in variants
    ]
    series = []
    for endpoint in ("plain", "page"):
        per = [
            ratios(f.of(n, endpoint, 16), f.of(BASELINE, endpoint, 16)) for n in names
        ]
        series.append((ENDPOINTS[endpoint], [median(p) or 0 for p in per],
                       _error_bars(per)))  # fmt: skip
    fig, ax = plt.subplots(figsize=(9, 6))
    _bars(ax, names, series, 0.38)
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel("requests/s as a multiple of gunicorn sync, 1 worker, at 16"
                  " connections\n(lines: lowest to highest round)")  # fmt: skip
    ax.legend(loc="lower right")
    _save(plt, fig, out / "throughput.png")


def plot_latency(results, plt, out):
    rows = latency_rows(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 6), sharey=True)
    for ax, endpoint in zip(axes, ("plain", "page"), strict=True):
        mine = [r for r in rows if r[1] == endpoint]
        names = [r[0] for r in mine]
        series = [(f"p{p}", [r[2 + i] for r in mine], None)
                  for i, p in enumerate((50, 90, 99))]  # fmt: skip
        _bars(ax, names, series, 0.27, invert=ax is axes[0])
        ax.set_title(f"{ENDPOINTS[endpoint]}, 64 connections")
        ax.set_xlabel("latency, ms (median of the rounds)")
    axes[0].legend(loc="lower right")
    _save(plt, fig, out / "latency.png")


def plot_scaling(results, plt, out):
    rows = scaling_rows(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 5), sharey=True)
    for ax, endpoint in zip(axes, ("plain", "page"), strict=True):
        mine = [r for r in rows if r[2] == endpoint]
        names = list(dict.fromkeys(r[1] for r in mine))
        series = []
        for connections in (16, 64):
            per = [next(r[4] for r in mine if r[1] == n and r[3] == connections)
                   for n in names]  # fmt: skip
            series.append((f"{connections} connections", [median(p) or 0 for p in per],
                           _error_bars(per)))  # fmt: skip
        _bars(ax, names, series, 0.38, invert=ax is axes[0])
        ax.set_title(ENDPOINTS[endpoint])
        ax.set_xlabel("requests/s (lines: lowest to highest round)")
    axes[0].legend(loc="lower right")
    _save(plt, fig, out / "scaling.png")


def plot_sizing(results, plt, out):
    f = Figures(results)
    names = [n for n in SWEEP if "switch" not in n]
    threads = [int(n.removeprefix("plugin-t")) for n in names]
    fig, left = plt.subplots(figsize=(8, 4))
    rps = [median(f.of(n, "wait20", 64)) for n in names]
    p99 = [median(f.of(n, "wait20", 64, "p99_ms")) for n in names]
    left.plot(threads, rps, "o-", label="requests/s")
    left.set_xscale("log", base=2)
    left.set_xticks(threads, [str(t) for t in threads])
    left.set_xlabel("--threads (view that waits 20 ms, 64 connections)")
    left.set_ylabel("requests/s")
    right = left.twinx()
    right.plot(threads, p99, "s--", color="tab:red", label="p99 ms")
    right.set_ylabel("p99 latency, ms")
    fig.legend(loc="upper center", ncols=2)
    _save(plt, fig, out / "sizing.png")


def plot(results, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for draw in (plot_throughput, plot_latency, plot_scaling, plot_sizing):
        draw(results, plt, out)


def tail_table(study):
    """The tail-latency study: each variant's p50, p99 and req/s at 64
    connections, median (lowest–highest round)."""
    f = Figures(study)
    rows = [["plugin", "plain p50 ms", "plain p99 ms", "plain req/s",
             "page p50 ms", "page p99 ms", "page req/s"]]  # fmt: skip
    for name in study["contenders"]:
        row = [label(study, name)]
        for endpoint in ("plain", "page"):
            runs = f.runs(name, endpoint, 64)
            row += [spread(values(runs, "p50_ms"), 1), spread(values(runs, "p99_ms"), 1),
                    spread(values(runs, "rps"))]  # fmt: skip
        rows.append(row)
    return rows


STUDIES = {"tail.json": ("tail.csv", tail_table)}


def write_study(study, out=OUT):
    out.mkdir(parents=True, exist_ok=True)
    for name, (table, make) in STUDIES.items():
        if study.get("study") == name.removesuffix(".json"):
            (out / table).write_text(render(make(study)))


def write(results, out=OUT):
    out.mkdir(parents=True, exist_ok=True)
    for name, text in tables(results).items():
        (out / name).write_text(text)
    plot(results, out)


if __name__ == "__main__":
    write(json.loads(RESULTS.read_text()))
    for name in STUDIES:
        if RESULTS.with_name(name).exists():
            write_study(json.loads(RESULTS.with_name(name).read_text()))
