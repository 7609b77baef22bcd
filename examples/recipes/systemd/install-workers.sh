#!/bin/sh
# Serve the backup catalogue from N twistd workers on one port, as root, on a
# machine that examples/recipes/systemd/install.sh has set up, from the root
# of a clone of the repository:
#   sh examples/recipes/systemd/install-workers.sh [N]
# N is the number of workers: by default, one per core (nproc).
# docs/howto/use-more-than-one-core.rst explains it, and
# tests/recipes/test_howto_reuseport.py runs this script in a scratch root.
set -eu
REPO=$(pwd)
RECIPE=$REPO/examples/recipes/systemd
WORKERS=${1:-$(nproc)}

# The template unit; check it for the first N instances, then start them.
# systemd starts them again at every boot, and restarts one that dies.
install -m 0644 "$RECIPE/backupsite-worker@.service" /etc/systemd/system/
INSTANCES=
UNITS=
for n in $(seq "$WORKERS"); do
    INSTANCES="$INSTANCES /etc/systemd/system/backupsite-worker@$n.service"
    UNITS="$UNITS backupsite-worker@$n.service"
done
# $INSTANCES and $UNITS unquoted: one word per unit.
systemd-analyze verify $INSTANCES
systemctl daemon-reload
systemctl enable --now $UNITS
