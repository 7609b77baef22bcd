"""The ``what-we-tried`` directive: the reliability cases, as measured.

``.. what-we-tried:: Bad input`` renders the cases of one group from
docs/reference/what-we-tried.json, which the reliability tests write when
run with ``RECORD_RESULTS=1`` and check on every other run (see
tests/support/results.py): one row per case, with what was sent or done,
what the server did, and the figures measured.
"""

import json
from pathlib import Path

from sphinx.util.docutils import SphinxDirective

RESULTS = "reference/what-we-tried.json"  # Relative to the docs folder.


def figure(value):
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


class WhatWeTried(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    has_content = False

    def run(self):
        path = Path(self.env.srcdir) / RESULTS
        self.env.note_dependency(str(path))
        try:
            cases = json.loads(path.read_text())["cases"]
        except (OSError, KeyError, ValueError) as error:
            raise self.error(f"what-we-tried: cannot read {path}: {error}") from None
        group = self.arguments[0]
        rows = [case for case in cases if case["group"] == group]
        if not rows:
            raise self.error(f"what-we-tried: no case in group {group!r}")
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 35 35 30",
            "",
            "   * - Input or fault",
            "     - What the server did",
            "     - Measured",
        ]
        for case in rows:
            measured = "; ".join(
                f"{k}: {figure(v)}" for k, v in case["figures"].items()
            )
            lines += [
                f"   * - {escape(case['input'])}",
                f"     - {escape(case['outcome'])}",
                f"     - {escape(measured) or '—'}",
            ]
        return self.parse_text_to_nodes("\n".join(lines))


def escape(text):
    """Plain text in reST: no markup, one line."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`")


def setup(app):
    app.add_directive("what-we-tried", WhatWeTried)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
