"""``.. steps-table::``: the table of the tutorial's steps, from steps.toml.

Usage::

    .. steps-table::
       :kind: tap

Options:

``:kind:``
    ``tap`` or ``tac``: list only the steps of that kind (default: all).

The file is the ``steps_table_file`` setting of conf.py (default:
``examples/steps.toml`` beside the docs folder). Each ``[[step]]`` gives a
row: the step (a link to ``tutorial/<kind>/<name>`` when that page exists,
``<name>`` being the step's id without its kind: ``05-package`` for
``tap-05-package``), its kind, its title, what it does daemonized and in the
foreground, what SIGTERM does with a request in flight, and the twistd
command, with ``{port}`` shown as 8080. A page that shows the table is
rebuilt when the file changes, and when pages are added or removed.
"""

import shlex
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

COLUMNS = [
    ("Step", 12),
    ("Kind", 6),
    ("What it shows", 28),
    ("Daemonized", 10),
    ("Foreground", 10),
    ("SIGTERM with a request in flight", 14),
    ("twistd command", 40),
]
REQUIRED = ("id", "title", "kind", "path", "args", "daemonized", "foreground")
SHOWN_PORT = "8080"
MISSING = "—"


def steps_file(env):
    configured = env.config.steps_table_file
    if configured:
        return Path(env.srcdir, configured)  # absolute, or relative to the docs
    return Path(env.srcdir).parent / "examples" / "steps.toml"


def load_steps(path):
    with open(path, "rb") as f:
        data = tomllib.load(f)
    steps = data.get("step")
    if not isinstance(steps, list):
        raise ValueError("no [[step]] entries")
    for number, step in enumerate(steps, 1):
        missing = [key for key in REQUIRED if key not in step]
        if missing:
            name = step.get("id", f"number {number}")
            raise ValueError(f"step {name} has no {', '.join(missing)}")
    return steps


def page_name(step):
    """``05-package`` for the step ``tap-05-package``: its page, and the
    name shown (a step that runs the installed package has no folder of
    its own; its ``path`` is the package's source, ``src``)."""
    kind, sep, name = step["id"].partition("-")
    if sep and kind == step["kind"] and name:
        return name
    return Path(step["path"]).name


def command_line(step):
    """``[ENV=value ...] twistd [-n] ARGS`` with the port shown as 8080."""

    def show(value):
        return shlex.quote(str(value).replace("{port}", SHOWN_PORT))

    env = [f"{name}={show(value)}" for name, value in step.get("env", {}).items()]
    return " ".join([*env, "twistd", "[-n]", *map(show, step["args"])])


class StepsTable(SphinxDirective):
    """Render examples/steps.toml as a table, one row per step."""

    has_content = False
    option_spec = {"kind": lambda value: directives.choice(value, ("tap", "tac"))}

    def run(self):
        path = steps_file(self.env)
        self.env.note_dependency(str(path))
        self.env.steps_table_docs = getattr(self.env, "steps_table_docs", set())
        self.env.steps_table_docs.add(self.env.docname)
        try:
            steps = load_steps(path)
        except (OSError, ValueError, tomllib.TOMLDecodeError) as error:
            raise self.error(f"steps-table: cannot read {path}: {error}") from None
        kind = self.options.get("kind")
        if kind:
            steps = [step for step in steps if step["kind"] == kind]
        table = self.build_table(steps)
        self.set_source_info(table)
        return [table]

    def build_table(self, steps):
        table = nodes.table(classes=["steps-table"])
        group = nodes.tgroup(cols=len(COLUMNS))
        table += group
        for _, width in COLUMNS:
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += self.row([nodes.Text(title) for title, _ in COLUMNS])
        group += head
        body = nodes.tbody()
        for step in steps:
            body += self.row(
                [
                    self.step_link(step),
                    nodes.Text(step["kind"]),
                    nodes.Text(step["title"]),
                    nodes.Text(step["daemonized"]),
                    nodes.Text(step["foreground"]),
                    nodes.Text(step.get("in_flight_sigterm") or MISSING),
                    nodes.literal(text=command_line(step)),
                ]
            )
        group += body
        return table

    def step_link(self, step):
        folder = page_name(step)
        docname = f"tutorial/{step['kind']}/{folder}"
        if docname not in self.env.found_docs:
            return nodes.Text(folder)
        ref = addnodes.pending_xref(
            "",
            refdomain="std",
            reftype="doc",
            reftarget="/" + docname,
            refexplicit=True,
            refwarn=True,
            refdoc=self.env.docname,
        )
        ref += nodes.inline(folder, folder)
        return ref

    @staticmethod
    def row(cells):
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", cell)
            row += entry
        return row


def outdated(app, env, added, changed, removed):
    """Rebuild the tables when pages come or go: their links may change."""
    if added or removed:
        return sorted(getattr(env, "steps_table_docs", set()) & env.found_docs)
    return []


def purge(app, env, docname):
    getattr(env, "steps_table_docs", set()).discard(docname)


def merge(app, env, docnames, other):
    env.steps_table_docs = getattr(env, "steps_table_docs", set()) | (
        getattr(other, "steps_table_docs", set()) & set(docnames)
    )


def setup(app):
    app.add_config_value("steps_table_file", "", "env", types=[str])
    app.add_directive("steps-table", StepsTable)
    app.connect("env-get-outdated", outdated)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
