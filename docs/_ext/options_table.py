"""``.. options-table::``: the options of ``twistd django``, from the package.

Usage::

    .. options-table::

    .. options-table:: BackupServerOptions
       :file: ../../examples/recipes/backup-server/backupserver/options.py
       :added:

With no argument, the table shows ``twistd_django.options.DjangoOptions``.
An argument names another options class, in the Python file that ``:file:``
gives (relative to the page), which is loaded on its own, as a recipe's
plugin would import it; ``:added:`` shows only the options that the class
adds to ``DjangoOptions``.

One row per option that the class's ``--help`` lists: the flag (and its
short form), the key of the ``[django]`` section of the config file, the
environment variable, the default, the unit and what it does. The rows of
the parameters come from the class's ``parameters`` (for ``DjangoOptions``,
``twistd_django.options.PARAMETERS``); the others are methods of the class
(``--config``, ``--mount``, and Twisted's own ``--help`` and
``--version``), which the command line alone accepts. ``option_rows`` makes
the rows; tests/docs/test_options_table.py checks them against the class.
"""

import importlib.util
import inspect
from dataclasses import dataclass
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

MISSING = "—"
COLUMNS = [
    ("Option", 16),
    ("Config-file key", 12),
    ("Environment", 12),
    ("Default", 14),
    ("Unit", 8),
    ("What it does", 38),
]
#: The value that a method option takes, shown as its unit.
METHOD_UNITS = {"config": "path", "mount": "/PREFIX/=DIR"}


@dataclass(frozen=True)
class Row:
    name: str  # the long option, without its dashes
    short: str | None
    key: str | None  # in the [django] section; None: command line only
    env: str | None
    default: str | None
    unit: str
    help: str

    @property
    def flag(self):
        return f"--{self.name}"


def option_rows(options_class=None):
    """The table's rows for ``options_class`` (default: ``DjangoOptions``),
    in the order of its ``--help``: sorted by long name."""
    if options_class is None:
        from twistd_django.options import DjangoOptions as options_class
    options = options_class()
    parameters = options_class.parameters
    shorts = {long: short for short, long in options.synonyms.items() if short != long}
    rows = []
    for spelled in options.longOpt:
        name = spelled.rstrip("=")
        parameter = parameters.get(name)
        if parameter is not None:
            rows.append(
                Row(
                    name=name,
                    short=parameter.short,
                    key=name,
                    env=parameter.env,
                    default=parameter.default,
                    unit=parameter.unit,
                    help=parameter.help,
                )
            )
        else:
            rows.append(
                Row(
                    name=name,
                    short=shorts.get(name),
                    key=None,
                    env=None,
                    default=None,
                    unit=METHOD_UNITS.get(name, "") if spelled.endswith("=") else "",
                    help=" ".join(options.docs.get(name, "").split()),
                )
            )
    return sorted(rows, key=lambda row: row.name)


def load_class(path, name):
    """Load the class ``name`` from the Python file ``path``, as a module of
    its own (it may import ``twistd_django``, nothing of its folder)."""
    path = Path(path).resolve()
    spec = importlib.util.spec_from_file_location(f"_options_of_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


class OptionsTable(SphinxDirective):
    """Render an options class as a table, one row per option."""

    has_content = False
    optional_arguments = 1
    option_spec = {"file": directives.unchanged_required, "added": directives.flag}

    def run(self):
        from twistd_django import options as package_options

        self.env.note_dependency(inspect.getsourcefile(package_options))
        try:
            if self.arguments:
                if "file" not in self.options:
                    raise ValueError("a class name needs :file:")
                _, path = self.env.relfn2path(self.options["file"])
                self.env.note_dependency(path)
                options_class = load_class(path, self.arguments[0])
            else:
                options_class = package_options.DjangoOptions
            rows = option_rows(options_class)
            if "added" in self.options:
                known = {row.name for row in option_rows()}
                rows = [row for row in rows if row.name not in known]
        except Exception as error:  # noqa: BLE001 - any failure stops the build
            raise self.error(f"options-table: {error}") from None
        table = self.build_table(rows)
        self.set_source_info(table)
        return [table]

    def build_table(self, rows):
        table = nodes.table(classes=["options-table"])
        group = nodes.tgroup(cols=len(COLUMNS))
        table += group
        for _, width in COLUMNS:
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += self.row([[nodes.Text(title)] for title, _ in COLUMNS])
        group += head
        body = nodes.tbody()
        for row in rows:
            flag = [nodes.literal(text=row.flag)]
            if row.short:
                flag += [nodes.Text(", "), nodes.literal(text=f"-{row.short}")]
            body += self.row(
                [
                    flag,
                    literal_or(row.key, "command line only"),
                    literal_or(row.env),
                    literal_or(row.default),
                    [nodes.Text(row.unit or MISSING)],
                    [nodes.Text(row.help)],
                ]
            )
        group += body
        return table

    @staticmethod
    def row(cells):
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *cell)
            row += entry
        return row


def literal_or(value, missing=MISSING):
    return [nodes.literal(text=value)] if value else [nodes.Text(missing)]


def setup(app):
    app.add_directive("options-table", OptionsTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
