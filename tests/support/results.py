"""The figures of the reliability tests, for docs/reference/what-we-tried.

Each reliability case ends with ``record(...)``, once its assertions have
passed: what was sent or done (``input``), what the server did (``outcome``,
the words for what the test asserted) and what was measured (``figures``).

With ``RECORD_RESULTS=1`` the case is written into the JSON file that the
page renders. Without it, the case must already be in the file, with the
same input and outcome, and the same names of figures: a behaviour that
changes fails its test until the file is recorded again, so the page cannot
say what the tests no longer see. The figures themselves (times, counts)
vary from run to run, and are refreshed only when recording.
"""

import json
import os

from .steps import ROOT

RESULTS_FILE = ROOT / "docs" / "reference" / "what-we-tried.json"
RECORD = os.environ.get("RECORD_RESULTS") == "1"
GROUPS = [
    "Bad input",
    "Slow clients",
    "Back-pressure",
    "Faults",
    "Load",
    "Security",
    "Operations",
]


def load():
    if not RESULTS_FILE.exists():
        return {"cases": []}
    return json.loads(RESULTS_FILE.read_text())


def _order(case):
    return GROUPS.index(case["group"])


def record(case, *, group, test, input, outcome, figures=None):
    """Check ``case`` against the results file, or write it there."""
    assert group in GROUPS, group
    entry = {
        "id": case,
        "group": group,
        "test": test,
        "input": input,
        "outcome": outcome,
        "figures": figures or {},
    }
    results = load()
    cases = {c["id"]: c for c in results["cases"]}
    if RECORD:
        cases[case] = entry
        ordered = sorted(cases.values(), key=_order)  # Stable within a group.
        results["cases"] = ordered
        RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")
        return
    assert case in cases, (
        f"{case!r} is not in {RESULTS_FILE.name}: run the test with RECORD_RESULTS=1"
    )
    saved = cases[case]
    for key in ("group", "test", "input", "outcome"):
        assert saved[key] == entry[key], (
            f"{case}: {key} is {entry[key]!r}, the page says {saved[key]!r}."
            " Run the test with RECORD_RESULTS=1 to record it."
        )
    assert sorted(saved["figures"]) == sorted(entry["figures"]), (
        f"{case}: the figures measured changed; record again with RECORD_RESULTS=1"
    )
