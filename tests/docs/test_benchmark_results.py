"""The committed benchmark results: they parse, cover what the page claims,
and the page's tables are exactly what benchmarks/report.py makes of them.
The benchmark itself runs only with `make bench`."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "servers.json"
PAGE = ROOT / "docs" / "reference" / "performance.rst"
OUT = ROOT / "docs" / "reference" / "performance"
REQUIRED = {
    "raw-twisted", "plugin-t10", "plugin-untuned", "plugin-tuned-1",
    "plugin-tuned-2", "plugin-tuned-3", "twistd-web-wsgi", "multicore-2",
    "reuseport-2", "gunicorn-sync-1", "gunicorn-gthread-1", "gunicorn-sync-2",
    "waitress", "granian-1", "granian-2", "plugin-t1", "plugin-t32",
    "plugin-t10-switch-1ms",
}  # fmt: skip
BENCH_MINUTES = 15  # make bench on a fresh clone, the acceptance bound.


def load_report():
    spec = importlib.util.spec_from_file_location(
        "report", ROOT / "benchmarks" / "report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results():
    return json.loads(RESULTS.read_text())


def test_results_record_the_machine_and_the_versions(results):
    machine = results["machine"]
    for key in ("date", "cpu", "cores", "python", "twisted", "django", "granian"):
        assert machine[key], key
    assert results["rounds"] >= 3
    assert results["seconds_per_run"] >= 3
    assert results["elapsed_seconds"] < BENCH_MINUTES * 60


def test_every_contender_ran_every_measurement_in_every_round(results):
    assert REQUIRED <= set(results["contenders"])
    seen = {
        (r["contender"], r["endpoint"], r["connections"], r["round"])
        for r in results["runs"]
    }
    for name, about in results["contenders"].items():
        assert about["runs"], name
        for endpoint, connections in about["runs"]:
            for round_ in range(results["rounds"]):
                assert (name, endpoint, connections, round_) in seen
    assert {r["round"] for r in results["limit"]} == set(range(results["rounds"]))
    for run in results["runs"]:
        assert run["requests"] > 0 and run["rps"] > 0, run
        assert run["p50_ms"] <= run["p90_ms"] <= run["p99_ms"], run


def test_the_page_tables_are_what_the_report_makes_of_the_results(results):
    for name, text in load_report().tables(results).items():
        assert (OUT / name).read_text() == text, f"rerun benchmarks/report.py: {name}"


def test_the_page_includes_every_table_and_plot():
    page = PAGE.read_text()
    report = load_report()
    for name in report.TABLES:
        assert f":file: performance/{name}" in page, name
    for plot in report.PLOTS:
        assert (OUT / plot).stat().st_size > 1000
        assert f"performance/{plot}" in page, plot


def test_the_page_leads_with_the_targets():
    page = PAGE.read_text()
    first_file = page.index(":file: performance/")
    assert page.startswith(":file: performance/targets.csv", first_file)


def test_each_target_is_met_in_every_round_or_marked_not_met(results):
    report = load_report()
    for text, _goal, per_round, met in report.target_rows(results):
        assert per_round, text
        assert len(per_round) in (1, results["rounds"]), text
        assert isinstance(met, bool)


def test_the_tail_study_covers_every_variant_and_its_table_matches():
    study = json.loads(RESULTS.with_name("tail.json").read_text())
    assert study["study"] == "tail" and study["rounds"] >= 3
    assert study["seconds_per_run"] >= 3
    seen = {
        (r["contender"], r["endpoint"], r["connections"], r["round"])
        for r in study["runs"]
    }
    assert len(study["contenders"]) >= 6
    for name, about in study["contenders"].items():
        for endpoint, connections in about["runs"]:
            for round_ in range(study["rounds"]):
                assert (name, endpoint, connections, round_) in seen
    report = load_report()
    (table, make) = report.STUDIES["tail.json"]
    assert (OUT / table).read_text() == report.render(make(study))
    assert f":file: performance/{table}" in PAGE.read_text()
