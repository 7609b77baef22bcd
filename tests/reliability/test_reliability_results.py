"""The page of what we tried shows every reliability case, and only those."""

import importlib

from support.results import GROUPS, load
from support.steps import ROOT

MODULES = sorted(
    p.stem for p in (ROOT / "tests" / "reliability").glob("test_reliability_*.py")
)


def declared():
    cases = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for case in getattr(module, "CASES", []):
            assert case not in cases, f"{case} is declared twice"
            cases[case] = module
    return cases


def test_every_case_on_the_page_has_a_test_and_every_test_a_case():
    results = load()["cases"]
    on_page = {case["id"]: case for case in results}
    assert len(on_page) == len(results), "a case is on the page twice"
    tests = declared()
    assert sorted(on_page) == sorted(tests)
    for case, entry in on_page.items():
        filename, _, function = entry["test"].partition("::")
        module = tests[case]
        assert filename == f"{module.__name__}.py", entry
        assert callable(getattr(module, function, None)), entry
        assert entry["group"] in GROUPS
    assert [GROUPS.index(c["group"]) for c in results] == sorted(
        GROUPS.index(c["group"]) for c in results
    )
