"""check_databases() against SQLite: a missing file, unapplied migrations, a
migrated database, and the write check.

Django can be configured once per process, and these unit tests must leave
the pytest process unconfigured: the checks run in one fresh interpreter,
which prints what each one said.
"""

import json
import os
import re
import subprocess
import sys

import pytest

CHECKS = """
import json, os, sqlite3, sys
import django
from django.conf import settings

path = sys.argv[1]
settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": path}},
    INSTALLED_APPS=["django.contrib.contenttypes"],
    USE_TZ=True,
)
django.setup()
from django.core.management import call_command
from django.db import connection

from twistd_django.dbcheck import DatabaseNotReady, check_databases

said = {}

def attempt(key, **kwargs):
    try:
        check_databases(**kwargs)
        said[key] = None
    except DatabaseNotReady as error:
        said[key] = str(error)
        said[key + ":exit"] = isinstance(error, SystemExit)
    said[key + ":closed"] = connection.connection is None

attempt("missing")
said["missing:created"] = os.path.exists(path)
sqlite3.connect(path).close()  # An empty database file.
attempt("unmigrated")
call_command("migrate", verbosity=0)
attempt("migrated")
attempt("writable", write=True)
said["tables"] = connection.introspection.table_names()
connection.close()
print(json.dumps(said))
"""


@pytest.fixture(scope="module")
def said(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dbcheck")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", CHECKS, str(folder / "db.sqlite3")],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), str(folder / "db.sqlite3")


def test_a_missing_sqlite_file_is_not_ready_and_not_created(said):
    results, path = said
    assert results["missing"] == (
        f"twistd django: database 'default' ({path}): no such file;"
        " run manage.py migrate."
    )
    assert results["missing:exit"] is True
    assert results["missing:created"] is False


def test_unapplied_migrations_are_not_ready(said):
    results, path = said
    prefix = f"twistd django: database 'default' ({path}): "
    assert results["unmigrated"].startswith(prefix)
    rest = results["unmigrated"][len(prefix) :]
    found = re.fullmatch(r"(\d+) unapplied migration\(s\); run migrate\.", rest)
    assert found and int(found.group(1)) >= 1, rest


def test_a_migrated_database_is_ready(said):
    results, _ = said
    assert results["migrated"] is None


def test_the_write_check_passes_and_leaves_no_table(said):
    results, _ = said
    assert results["writable"] is None
    assert "twistd_django_write_test" not in results["tables"]
    assert "django_content_type" in results["tables"]


@pytest.mark.parametrize("check", ["missing", "unmigrated", "migrated", "writable"])
def test_every_check_closes_its_connection(said, check):
    results, _ = said
    assert results[f"{check}:closed"] is True
