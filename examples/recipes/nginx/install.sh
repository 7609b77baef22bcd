#!/bin/sh
# Put nginx in front of two backends, as root, on a machine that
# examples/recipes/systemd/install.sh has set up, from the root of a clone of
# the repository:
#   sh examples/recipes/nginx/install.sh
# docs/howto/run-behind-nginx.rst explains each step, and
# tests/recipes/test_howto_nginx.py runs this script in a scratch root.
set -eu
REPO=$(pwd)
RECIPE=$REPO/examples/recipes/nginx

# 1. The proxied settings, beside the site's own, where PYTHONPATH (in
#    /etc/backupsite/backupsite.env) finds them.
install -m 0644 "$RECIPE/proxied_settings.py" /srv/backupsite/site/

# 2. Two backends from the template unit, each on its own port of
#    127.0.0.1; the single service of the systemd how-to is not needed.
install -m 0644 "$RECIPE/backupsite@.service" /etc/systemd/system/
systemd-analyze verify /etc/systemd/system/backupsite@8081.service \
    /etc/systemd/system/backupsite@8082.service
systemctl daemon-reload
systemctl disable --now backupsite.socket backupsite.service
systemctl enable --now backupsite@8081.service backupsite@8082.service

# 3. A certificate for backup.example.com, self-signed, to try it out; for
#    the real site, put your CA's certificate chain and key in these files.
install -d -m 0755 /etc/ssl/backupsite
if [ ! -e /etc/ssl/backupsite/key.pem ]; then
    (umask 0077 && openssl req -x509 -newkey ec \
        -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj /CN=backup.example.com \
        -addext subjectAltName=DNS:backup.example.com \
        -keyout /etc/ssl/backupsite/key.pem \
        -out /etc/ssl/backupsite/fullchain.pem 2>/dev/null)
    chmod 0644 /etc/ssl/backupsite/fullchain.pem
fi

# 4. nginx, with the recipe's configuration: check it, then load it.
apt-get install -y nginx
install -m 0644 "$RECIPE/nginx.conf" /etc/nginx/nginx.conf
nginx -t
systemctl reload nginx
