"""Settings for the backup catalogue, read from environment variables.

BACKUPSITE_DATA_DIR     the directory of the SQLite database, the collected
                        static files and the media files
                        [default: examples/site/var]
DJANGO_SECRET_KEY       the secret key; or
DJANGO_SECRET_KEY_FILE  a file that holds it
DJANGO_DEBUG            "1", "true" or "yes" turns debug mode on [default: off]
DJANGO_ALLOWED_HOSTS    host names, separated by commas
                        [default: 127.0.0.1,localhost,[::1]]

Importing this module only reads the environment: it creates no file and
opens no database. ``manage.py migrate`` creates the data directory and the
database, and ``manage.py collectstatic`` fills STATIC_ROOT.
"""

import os
import sys
import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BACKUPSITE_DATA_DIR") or BASE_DIR / "var").resolve()

DEBUG = os.environ.get("DJANGO_DEBUG", "").strip().lower() in ("1", "true", "yes")

# Django compares these with the Host header, without its port: an IPv6
# address is written in brackets, as in "Host: [::1]:8080".
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")
    if host.strip()
] or ["127.0.0.1", "localhost", "[::1]"]


def _read_secret_key(path):
    try:
        key = Path(path).read_text().strip()
    except OSError as error:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY_FILE names {path!r}, which cannot be read: "
            f"{error.strerror}."
        ) from error
    if not key:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY_FILE names {path!r}, which is empty."
        )
    return key


# Without a secret key the site still runs, so that the tutorial just works,
# but it says so loudly: on stderr and as a warning now, and again on the
# first request (see catalogue/apps.py), because twistd loads the site before
# it starts its log.
SECRET_KEY_WARNING = None
if os.environ.get("DJANGO_SECRET_KEY"):
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
elif os.environ.get("DJANGO_SECRET_KEY_FILE"):
    SECRET_KEY = _read_secret_key(os.environ["DJANGO_SECRET_KEY_FILE"])
else:
    SECRET_KEY = "django-insecure-development-key-of-the-backupsite-example"
    SECRET_KEY_WARNING = (
        "DJANGO_SECRET_KEY is not set: using an insecure development key. "
        "Set DJANGO_SECRET_KEY or DJANGO_SECRET_KEY_FILE before you serve anyone."
    )
    print(f"WARNING: {SECRET_KEY_WARNING}", file=sys.stderr)
    warnings.warn(SECRET_KEY_WARNING, RuntimeWarning, stacklevel=1)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "catalogue",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backupsite.urls"
WSGI_APPLICATION = "backupsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
        # Many threads write to one SQLite file: wait for the lock rather than
        # fail, take it when a transaction begins (no deadlocked upgrades), and
        # let readers run beside the writer (WAL). Django 5.1+ has both options.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed file names, so browsers may cache them forever. With DEBUG off,
    # {% static %} needs the manifest that collectstatic writes.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}

# Tracebacks of failed requests go to stderr, which twistd writes to its log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {"class": "backupsite.log.StderrHandler", "formatter": "plain"},
        "null": {"class": "logging.NullHandler"},
    },
    "loggers": {
        "django.request": {
            "handlers": ["stderr"],
            "level": "ERROR",
            "propagate": False,
        },
        # A request for a host not in ALLOWED_HOSTS gets a 400, which the
        # access log records: it is the client's error, not the server's.
        "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
    },
}
