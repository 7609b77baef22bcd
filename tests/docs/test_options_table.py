"""docs/reference/options.rst's table and the options class agree.

The table is made by the ``options-table`` directive (docs/_ext/options_table.py)
from the package; these tests call its row-building function, and compare
the rows with what ``twistd django --help`` prints and with PARAMETERS.
"""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from twistd_django.options import PARAMETERS, DjangoOptions

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "docs" / "_ext" / "options_table.py"
PAGE = ROOT / "docs" / "reference" / "options.rst"
RECIPES = {
    "BackupServerOptions": (
        ROOT / "examples/recipes/backup-server/backupserver/options.py",
        {"agents", "orm-threads", "call-timeout"},
    ),
    "DjangoTLSOptions": (
        ROOT / "examples/recipes/tls/twisted/plugins/django_tls.py",
        {"http2"},
    ),
}
# "  -t, --threads=   Threads in the WSGI pool." and "      --help   ..."
HELP_LINE = re.compile(r"^\s+(?:-(\w), )?--([\w-]+)(=?)\s", re.MULTILINE)


@pytest.fixture(scope="module")
def table():
    spec = importlib.util.spec_from_file_location("options_table", EXTENSION)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("options_table", module)
    spec.loader.exec_module(module)
    return module


def help_options(options_class):
    """{long name: short form or None} from the class's --help text."""
    return {
        long: short or None
        for short, long, _ in HELP_LINE.findall(str(options_class()))
    }


def test_every_option_in_the_help_is_a_row_and_every_row_is_in_the_help(table):
    rows = table.option_rows()
    names = [row.name for row in rows]
    assert len(names) == len(set(names))
    listed = help_options(DjangoOptions)
    assert set(names) == set(listed)
    for row in rows:
        assert row.short == listed[row.name], row.name
    # --config and --mount are methods, the rest of the rows parameters.
    assert {"config", "mount", "settings", "threads"} <= set(names)


def test_each_parameter_row_matches_parameters(table):
    rows = {row.name: row for row in table.option_rows()}
    for name, parameter in PARAMETERS.items():
        row = rows[name]
        assert row.key == name
        assert (row.default, row.unit, row.env) == (
            parameter.default,
            parameter.unit,
            parameter.env,
        ), name
        assert row.short == parameter.short
        assert row.help == parameter.help
        assert row.unit, f"{name} has no unit"


def test_the_other_rows_are_command_line_only(table):
    for row in table.option_rows():
        if row.name not in PARAMETERS:
            assert row.key is None and row.env is None and row.default is None
            assert row.help, row.name
    rows = {row.name: row for row in table.option_rows()}
    assert rows["config"].unit == "path"
    assert rows["mount"].unit == "/PREFIX/=DIR"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_recipes_rows_are_its_help_and_its_parameters(table, name):
    path, added = RECIPES[name]
    options_class = table.load_class(path, name)
    rows = {row.name: row for row in table.option_rows(options_class)}
    assert set(rows) == set(help_options(options_class))
    assert set(rows) - {row.name for row in table.option_rows()} == added
    for option in added:
        parameter = options_class.parameters[option]
        assert rows[option].key == option  # The config file accepts it.
        assert (rows[option].default, rows[option].unit, rows[option].env) == (
            parameter.default,
            parameter.unit,
            parameter.env,
        )


def test_the_options_page_shows_the_generated_tables():
    text = PAGE.read_text()
    assert re.search(r"^\.\. options-table::\s*$", text, re.MULTILINE)
    for name, (path, _) in RECIPES.items():
        relative = path.relative_to(ROOT).as_posix()
        assert f".. options-table:: {name}\n   :file: ../../{relative}" in text
