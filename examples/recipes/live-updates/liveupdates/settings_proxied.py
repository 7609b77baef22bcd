"""The live-updates settings behind nginx (examples/recipes/nginx/nginx.conf):
the production hardening, and what the proxy tells Django.

The WebSocket handshake checks its ``Origin`` against the scheme that nginx
reports in X-Forwarded-Proto: the same trust as for Django's own pages, so
the same warning as examples/recipes/nginx/proxied_settings.py: listen on
127.0.0.1 or a private socket only, never where clients can reach the daemon.
"""

import os

from backupsite.settings_production import (  # noqa: F401
    CSRF_COOKIE_SECURE,
    SECURE_HSTS_INCLUDE_SUBDOMAINS,
    SECURE_HSTS_PRELOAD,
    SECURE_HSTS_SECONDS,
    SECURE_SSL_REDIRECT,
    SESSION_COOKIE_SECURE,
)

from .settings import *  # noqa: F403

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")
    if host.strip()
] or ["backup.example.com"]
