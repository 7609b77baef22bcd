"""Production settings: the defaults, hardened, and no secret key default.

Use with ``--settings backupsite.settings_production``. It assumes HTTPS in
front of the daemon (a proxy that terminates TLS, or an ``ssl:`` endpoint).
"""

from django.core.exceptions import ImproperlyConfigured

from backupsite.settings import *  # noqa: F403
from backupsite.settings import SECRET_KEY_WARNING

if SECRET_KEY_WARNING:
    raise ImproperlyConfigured(
        "Production needs a secret key: set DJANGO_SECRET_KEY or"
        " DJANGO_SECRET_KEY_FILE."
    )

DEBUG = False
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
