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
    "raw-twisted", "plugin-t4", "plugin-t10", "plugin-t32", "plugin-unbuffered",
    "twistd-web-wsgi", "tac-getthreadpool", "multicore-2", "gunicorn-sync-1",
    "gunicorn-gthread-1", "gunicorn-sync-2", "waitress", "daphne",
}  # fmt: skip


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
    for key in ("date", "cpu", "cores", "python", "twisted", "django"):
        assert machine[key], key
    assert results["rounds"] >= 3


def test_every_contender_ran_every_url_it_serves_in_every_round(results):
    assert REQUIRED <= set(results["contenders"])
    seen = {
        (r["contender"], r["endpoint"], r["connections"], r["round"])
        for r in results["runs"]
    }
    for name in results["contenders"]:
        for endpoint in ("plain", "page"):
            if name == "raw-twisted" and endpoint == "page":
                continue
            for connections in (1, 16, 64):
                for round_ in range(results["rounds"]):
                    assert (name, endpoint, connections, round_) in seen
    assert {r["round"] for r in results["limit"]} == set(range(results["rounds"]))
    assert len({r["threads"] for r in results["sweep"]}) >= 3
    for run in results["runs"]:
        assert run["requests"] > 0 and run["rps"] > 0, run


def test_the_page_tables_are_what_the_report_makes_of_the_results(results):
    for name, text in load_report().tables(results).items():
        assert (OUT / name).read_text() == text, f"rerun benchmarks/report.py: {name}"


def test_the_page_includes_every_table_and_plot():
    page = PAGE.read_text()
    for name in load_report().TABLES:
        assert f":file: performance/{name}" in page, name
    for plot in ("throughput.png", "sizing.png"):
        assert (OUT / plot).stat().st_size > 1000
        assert f"performance/{plot}" in page, plot
