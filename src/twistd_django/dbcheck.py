"""Check the databases before the daemon starts: there, reachable, migrated,
and, if asked for, writable.

Without this check a missing SQLite file or an unreachable server shows
only on the first request, as a 500 in the log; ``sqlite3`` even creates an
empty database where the file is missing. The check runs in
``makeService``, before twistd forks, so its message reaches the shell, and
it closes its connections again: no database connection crosses the fork.

By default it only reads: it connects, runs ``SELECT 1`` and reads the
migration table, which a least-privilege role may do. ``write=True``
(``--db-write-check``) also creates a table in a transaction that it rolls
back, which needs the CREATE privilege.
"""

from pathlib import Path

# Vendors whose DDL is transactional: the write test leaves no trace.
WRITE_TEST_VENDORS = ("sqlite", "postgresql")


class DatabaseNotReady(SystemExit):
    """twistd exits with status 1 and this message, with no traceback."""

    def __init__(self, alias, name, problem):
        super().__init__(f"twistd django: database {alias!r} ({name}): {problem}")


def check_databases(write=False):
    from django.db import connections

    for alias in connections:
        connection = connections[alias]
        try:
            _check(alias, connection, write)
        finally:
            connection.close()
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()  # Django's psycopg pool: no thread crosses the fork.


def _check(alias, connection, write):
    from django.db import DatabaseError, transaction
    from django.db.migrations.executor import MigrationExecutor

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        if not Path(name).is_file():
            raise DatabaseNotReady(alias, name, "no such file; run manage.py migrate.")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            raise DatabaseNotReady(
                alias, name, f"{len(plan)} unapplied migration(s); run migrate."
            )
        if write and connection.vendor in WRITE_TEST_VENDORS:
            with transaction.atomic(using=alias):
                with connection.cursor() as cursor:
                    cursor.execute("CREATE TABLE twistd_django_write_test (id int)")
                transaction.set_rollback(True, using=alias)
    except DatabaseError as error:
        raise DatabaseNotReady(alias, name, f"{error}.") from None
