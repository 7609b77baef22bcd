"""The backup catalogue on PostgreSQL: the default settings, another database.

Use with ``--settings backupsite.settings_postgres``. Everything but the
database comes from ``backupsite.settings`` (and its variables); the
connection is read from these environment variables:

BACKUPSITE_DB_NAME          the database [default: backupsite]
BACKUPSITE_DB_USER          the role [default: libpq's, the OS user name]
BACKUPSITE_DB_PASSWORD      its password; or
BACKUPSITE_DB_PASSWORD_FILE a file that holds it [default: none, for peer
                            or trust authentication over the Unix socket]
BACKUPSITE_DB_HOST          a host name, or the directory of the server's
                            Unix socket [default: libpq's, the socket in
                            /var/run/postgresql on Debian]
BACKUPSITE_DB_PORT          the port [default: 5432]
BACKUPSITE_DB_CONN_MAX_AGE  seconds a thread keeps its connection after a
                            request; 0 closes it at the end of each request
                            [default: 0]
BACKUPSITE_DB_POOL          "MIN:MAX": share a psycopg connection pool of
                            MIN to MAX connections between the threads,
                            instead of one connection per thread
                            [default: no pool]

Another settings module gets the same database with
``from backupsite.settings_postgres import DATABASES``.
docs/howto/use-postgresql.rst says how to choose CONN_MAX_AGE or the pool.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from backupsite.settings import *  # noqa: F403


def _password():
    if os.environ.get("BACKUPSITE_DB_PASSWORD"):
        return os.environ["BACKUPSITE_DB_PASSWORD"]
    path = os.environ.get("BACKUPSITE_DB_PASSWORD_FILE")
    if not path:
        return ""
    try:
        return Path(path).read_text().strip()
    except OSError as error:
        raise ImproperlyConfigured(
            f"BACKUPSITE_DB_PASSWORD_FILE names {path!r}, which cannot be read:"
            f" {error.strerror}."
        ) from error


def _whole_number(name, default):
    raw = os.environ.get(name, "").strip() or default
    if not raw.isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.")
    return int(raw)


def _pool():
    """Django's ``OPTIONS["pool"]`` from BACKUPSITE_DB_POOL, or None."""
    raw = os.environ.get("BACKUPSITE_DB_POOL", "").strip()
    if not raw:
        return None
    low, sep, high = raw.partition(":")
    if not (sep and low.isdigit() and high.isdigit() and 0 < int(low) <= int(high)):
        raise ImproperlyConfigured(
            f"BACKUPSITE_DB_POOL must be MIN:MAX, as 2:10, not {raw!r}."
        )
    # timeout: how long a thread waits for a free connection before the
    # request fails, rather than wait for ever behind a full pool.
    return {"min_size": int(low), "max_size": int(high), "timeout": 10}


def postgres_database():
    """The ``DATABASES["default"]`` entry the variables describe."""
    pool = _pool()
    options = {"pool": pool} if pool else {}
    max_age = _whole_number("BACKUPSITE_DB_CONN_MAX_AGE", "0")
    if pool and max_age:
        raise ImproperlyConfigured(
            "BACKUPSITE_DB_POOL and BACKUPSITE_DB_CONN_MAX_AGE exclude each"
            " other: a pooled connection goes back to the pool after each request."
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BACKUPSITE_DB_NAME") or "backupsite",
        "USER": os.environ.get("BACKUPSITE_DB_USER", ""),
        "PASSWORD": _password(),
        "HOST": os.environ.get("BACKUPSITE_DB_HOST", ""),
        "PORT": os.environ.get("BACKUPSITE_DB_PORT", ""),
        "CONN_MAX_AGE": max_age,
        # A kept connection is tested before a request uses it, so a server
        # restart costs no failed request.
        "CONN_HEALTH_CHECKS": max_age > 0,
        "OPTIONS": options,
    }


DATABASES = {"default": postgres_database()}
