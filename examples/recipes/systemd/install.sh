#!/bin/sh
# Install the backup catalogue as a systemd service, on Debian 12, as root,
# from the root of a clone of the repository:
#   sh examples/recipes/systemd/install.sh
# docs/howto/run-under-systemd.rst explains each step, and
# tests/recipes/test_howto_systemd.py runs this script in a scratch root.
set -eu
REPO=$(pwd)
RECIPE=$REPO/examples/recipes/systemd

# 1. The user: a system user and group, with no password and no login shell.
id -u backupsite >/dev/null 2>&1 ||
    useradd --system --user-group --home-dir /srv/backupsite \
        --shell /usr/sbin/nologin backupsite

# 2. The code, owned by root: the service may read it, not change it. A
#    virtual environment with the package (pip fetches Twisted and Django),
#    the site beside it, and the helper that runs manage.py.
install -d -m 0755 /srv/backupsite
python3 -m venv /srv/backupsite/venv
/srv/backupsite/venv/bin/python -m pip install --quiet "$REPO"
rm -rf /srv/backupsite/site
cp -r "$REPO/examples/site" /srv/backupsite/site
install -m 0755 "$RECIPE/backupsite-manage" /usr/local/sbin/backupsite-manage

# 3. The configuration, readable by root and the service's group only: the
#    environment file, and the secret key, made once and kept.
install -d -m 0750 /etc/backupsite
chgrp backupsite /etc/backupsite
if [ ! -e /etc/backupsite/backupsite.env ]; then
    install -m 0640 "$RECIPE/backupsite.env" /etc/backupsite/backupsite.env
fi
if [ ! -s /etc/backupsite/secret_key ]; then
    (umask 0027 && python3 -c 'import secrets; print(secrets.token_urlsafe(50))' \
        > /etc/backupsite/secret_key)
fi
chgrp backupsite /etc/backupsite/backupsite.env /etc/backupsite/secret_key

# 4. The data folder, as systemd's StateDirectory= makes it, then the
#    database and the static files, made with the service's environment.
install -d -m 0750 /var/lib/backupsite
chown backupsite:backupsite /var/lib/backupsite
/usr/local/sbin/backupsite-manage migrate --noinput
/usr/local/sbin/backupsite-manage collectstatic --noinput

# 5. The units: check them, then let systemd listen on the socket.
install -m 0644 "$RECIPE/backupsite.socket" "$RECIPE/backupsite.service" \
    /etc/systemd/system/
systemd-analyze verify /etc/systemd/system/backupsite.socket \
    /etc/systemd/system/backupsite.service
systemctl daemon-reload
systemctl enable --now backupsite.socket
