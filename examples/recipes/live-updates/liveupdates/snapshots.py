"""The ORM work behind a pushed snapshot: save it, and describe it as the
page shows it. It blocks: run it with ``OrmPool.run()``."""

from django.template.defaultfilters import date, filesizeformat
from django.utils.timezone import localtime

from backupserver import store


def record_and_describe(host_name, label, size_bytes, status):
    """Save one snapshot (``backupserver.store``); return its id, the thread
    that saved it, and the message that the pages get."""
    from catalogue.models import Snapshot

    snapshot_id, thread = store.record_snapshot(host_name, label, size_bytes, status)
    snapshot = Snapshot.objects.select_related("host").get(pk=snapshot_id)
    return snapshot_id, thread, describe(snapshot)


def describe(snapshot):
    """The row of the snapshot list, as the template renders it."""

    def when(moment):
        return date(localtime(moment), "Y-m-d H:i") if moment else "–"

    return {
        "type": "snapshot",
        "snapshot": {
            "id": snapshot.pk,
            "host": snapshot.host.name,
            "label": snapshot.label,
            "status": snapshot.status,
            "status_display": snapshot.get_status_display(),
            "size": filesizeformat(snapshot.size_bytes),
            "started": when(snapshot.started_at),
            "finished": when(snapshot.finished_at),
        },
    }
