"""The benchmark scripts run, and print what their pages quote."""

import json
import subprocess
import sys

from support.steps import ROOT


def test_static_files_benchmark_runs():
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "static_files.py"),
            *("--seconds", "0.3", "--rounds", "1", "--clients", "2"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["requests_per_second"]) == {"safefiles", "whitenoise"}
    assert all(r[0] > 0 for r in report["requests_per_second"].values())
    assert report["ratio_safefiles_to_whitenoise"] > 0
    assert report["machine"]["cores"] >= 1


def test_committed_static_results_parse():
    report = json.loads(
        (ROOT / "benchmarks" / "results" / "static_files.json").read_text()
    )
    assert report["ratio_safefiles_to_whitenoise"] > 0
