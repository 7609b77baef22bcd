"""Settings for the backup catalogue behind the reverse proxy of nginx.conf.

Use with ``--settings proxied_settings``, with this file on PYTHONPATH
(install.sh puts it beside the site's manage.py): the production settings,
plus what the proxy tells Django. Like the production settings, it needs a
secret key (DJANGO_SECRET_KEY_FILE, or DJANGO_SECRET_KEY), and takes the data
folder from BACKUPSITE_DATA_DIR and the site's names from
DJANGO_ALLOWED_HOSTS: backupsite@.service reads them from
/etc/backupsite/backupsite.env and its credential.

WARNING: Django believes the X-Forwarded-Proto header that these settings
name, and the plugin's ``--trust-proxy=yes`` believes X-Forwarded-For. Use
them only when the daemon can be reached through the proxy alone: listen on
127.0.0.1 or on a private socket, never on an address that clients reach,
or any client can claim to be on HTTPS, or to come from anywhere.
"""

import os

from backupsite.settings_production import *  # noqa: F403

# nginx sets "X-Forwarded-Proto: https" on a request that came over TLS, and
# "http" on one that did not, overwriting what the client sent. Django then
# takes the first for secure: request.is_secure(), https:// URLs, and no
# redirect from SECURE_SSL_REDIRECT.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The names the public asks for: nginx passes the client's Host on
# ("proxy_set_header Host $host"), and Django answers 400 to any other name.
# USE_X_FORWARDED_HOST stays False: the Host header already holds the name,
# and X-Forwarded-Host would be one more header to trust.
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")
    if host.strip()
] or ["backup.example.com"]
