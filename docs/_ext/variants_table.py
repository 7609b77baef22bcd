"""The ``variants-table`` directive: the table of the fix variants.

``.. variants-table::`` renders examples/variants/variants.toml, the file
whose every value tests/steps/test_variants.py asserts against a real twistd, as a
table: one row per variant, one column per measured behaviour. A value this
file has no words for stops the build, so the page cannot say more than the
tests do. An optional argument names another file, relative to the page.
"""

from pathlib import Path

from sphinx.util.docutils import SphinxDirective

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_FILE = "examples/variants/variants.toml"  # Relative to the repository.

# (key in variants.toml, column heading, words for each allowed value)
COLUMNS = [
    (
        "after_fork",
        "Daemonized: threads after the fork",
        {"serves": "yes: ``/`` answers", "hangs": "no: requests hang"},
    ),
    (
        "privilege_drop",
        "Pool threads start",
        {"after": "after the privilege drop", "before": "before the privilege drop"},
    ),
    (
        "startup_error",
        "Port in use",
        {
            "shell": "exit status 1, the error printed",
            "log": "exit status 0, the error only in the log",
        },
    ),
    (
        "in_flight_request",
        "SIGTERM: the request in flight",
        {
            "completes": "completes",
            "cut-off": "cut off with no response",
            "no-response": "no response, ever",
        },
    ),
    (
        "exits_on_sigterm",
        "SIGTERM: the process",
        {True: "exits", False: "never exits"},
    ),
    (
        "pidfile_removed",
        "SIGTERM: the pidfile",
        {True: "removed", False: "stays"},
    ),
    (
        "shares_reactor_pool",
        "Shares its pool with DNS lookups",
        {True: "yes", False: "no"},
    ),
]


class VariantsTable(SphinxDirective):
    optional_arguments = 1
    has_content = False

    def run(self):
        if self.arguments:
            _, path = self.env.relfn2path(self.arguments[0])
            path = Path(path)
        else:
            path = Path(self.env.srcdir).parent / DEFAULT_FILE
        self.env.note_dependency(str(path))
        try:
            with path.open("rb") as f:
                variants = tomllib.load(f)["variant"]
        except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
            raise self.error(f"variants-table: cannot read {path}: {error}") from None

        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :stub-columns: 1",
            "",
            "   * - Variant",
        ]
        lines += [f"     - {heading}" for _, heading, _ in COLUMNS]
        for number, variant in enumerate(variants, start=1):
            lines.append(f"   * - {number}. {variant['title']}")
            for key, _, words in COLUMNS:
                value = variant.get(key)
                if value not in words:
                    raise self.error(
                        f"variants-table: {variant.get('id')!r} has {key} = "
                        f"{value!r} in {path}; expected one of {list(words)}."
                    )
                lines.append(f"     - {words[value]}")

        return self.parse_text_to_nodes("\n".join(lines))


def setup(app):
    app.add_directive("variants-table", VariantsTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
