"""The nginx recipe's nginx.conf, rendered for a test's nginx on 127.0.0.1.

test_recipe_nginx.py and test_recipe_live_nginx.py both run the
distribution's nginx on examples/recipes/nginx/nginx.conf, with this run's
ports and paths in place of the production values.
"""

import os
import pwd
import shutil

from .recipes import RECIPES
from .tls import throwaway_ca

CONF = RECIPES / "nginx" / "nginx.conf"
SERVER_NAME = "backup.example.com"
# Debian puts nginx in /usr/sbin, which is not on a normal user's PATH.
NGINX = shutil.which(
    "nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
)
INSTALL = "apt-get install nginx (Debian, Ubuntu) or dnf install nginx (Fedora)"


def nginx_certs(directory):
    """A throwaway CA, and nginx's certificate for the server name, in
    ``directory``; nginx wants the certificate and its chain in one file,
    fullchain.pem."""
    throwaway_ca(directory, SERVER_NAME, "127.0.0.1", capture_output=True)
    fullchain = (directory / "cert.pem").read_text() + (
        directory / "chain.pem"
    ).read_text()
    (directory / "fullchain.pem").write_text(fullchain)
    return directory


def render(text, replacements):
    """nginx.conf with this run's values; each production value must be there."""
    for production, here in replacements.items():
        assert production in text, f"nginx.conf no longer has {production!r}"
        text = text.replace(production, here)
    return text


def render_conf(prefix, certs, backends, http_port, https_port, access_log):
    """nginx.conf for an nginx under ``prefix`` in front of the two
    ``backends`` ports, on ``http_port`` and ``https_port`` of 127.0.0.1."""
    b1, b2 = backends
    return render(
        CONF.read_text(),
        {
            # The master runs as this user: a worker that switched to
            # www-data could not write under pytest's mode-0700 tmp dir.
            "user www-data;": f"user {pwd.getpwuid(os.geteuid()).pw_name};",
            # One worker: its round-robin alternates, request by request.
            "worker_processes auto;": "worker_processes 1;",
            "pid /run/nginx.pid;": f"pid {prefix}/nginx.pid;",
            "error_log /var/log/nginx/error.log;": "error_log stderr info;",
            "/var/log/nginx/backupsite.access.log": str(access_log),
            "server 127.0.0.1:8081;": f"server 127.0.0.1:{b1};",
            "server 127.0.0.1:8082;": f"server 127.0.0.1:{b2};",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
            "/etc/ssl/backupsite/fullchain.pem": str(certs / "fullchain.pem"),
            "/etc/ssl/backupsite/key.pem": str(certs / "key.pem"),
            # Debian's nginx keeps request bodies in /var/lib/nginx.
            "http {": "http {\n"
            + "".join(
                f"    {kind}_temp_path {prefix}/{kind}_temp;\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            ),
        },
    )
