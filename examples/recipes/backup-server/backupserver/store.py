"""The ORM work of the backup server. Every function here blocks: run it with
``OrmPool.run()``, never in the reactor thread."""

import threading

from django.db import transaction
from django.utils import timezone


def record_snapshot(host_name, label, size_bytes, status):
    """Save one finished snapshot; return its id and the thread that saved it."""
    from catalogue.models import Host, Snapshot

    now = timezone.now()
    with transaction.atomic():
        host, _ = Host.objects.get_or_create(name=host_name)
        snapshot = Snapshot.objects.create(
            host=host,
            label=label,
            size_bytes=size_bytes,
            status=status,
            started_at=now,
            finished_at=None if status == Snapshot.Status.RUNNING else now,
        )
    return snapshot.pk, threading.current_thread().name


def statuses():
    from catalogue.models import Snapshot

    return set(Snapshot.Status.values)
