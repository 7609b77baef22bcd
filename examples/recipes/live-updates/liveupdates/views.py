"""The catalogue's snapshot list, which goes live for a user who may see it."""

from django.conf import settings
from django.shortcuts import render

from . import sessions


def snapshot_list(request):
    """The catalogue's home page, and its template, with what its few lines
    of JavaScript need: ``live_url`` for a user with the permission, else
    ``live_login_url``. Without JavaScript it is the ordinary page."""
    from catalogue.models import Snapshot

    snapshots = Snapshot.objects.select_related("host")[:50]
    context = {"snapshots": snapshots}
    if request.user.has_perm(sessions.PERMISSION):
        context["live_url"] = "/live/"
    elif not request.user.is_authenticated:
        context["live_login_url"] = f"{settings.LOGIN_URL}?next=/"
    return render(request, "catalogue/snapshot_list.html", context)
