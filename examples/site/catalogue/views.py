"""The catalogue's pages, and a few views made for the tutorial and its tests."""

import gc
import math
import os
import sys
import threading
import time

from django import forms
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import Host, Snapshot


def snapshot_list(request):
    """The home page: the most recent snapshots of every host."""
    snapshots = Snapshot.objects.select_related("host")[:50]
    return render(request, "catalogue/snapshot_list.html", {"snapshots": snapshots})


class ReportForm(forms.Form):
    host = forms.CharField(max_length=255)
    label = forms.CharField(max_length=255)
    size_bytes = forms.IntegerField(min_value=0, max_value=2**63 - 1)
    status = forms.ChoiceField(choices=Snapshot.Status.choices)


@csrf_exempt  # Backup agents are programs, not browsers with a CSRF cookie.
@require_POST
def report_snapshot(request):
    """Record a snapshot that a backup agent reports: 201 and its id."""
    form = ReportForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()
        )
        return text(f"bad snapshot report: {problems}", status=400)
    report = form.cleaned_data
    running = report["status"] == Snapshot.Status.RUNNING
    now = timezone.now()
    with transaction.atomic():
        host, _ = Host.objects.get_or_create(name=report["host"])
        snapshot = Snapshot.objects.create(
            host=host,
            label=report["label"],
            size_bytes=report["size_bytes"],
            status=report["status"],
            started_at=now,
            finished_at=None if running else now,
        )
    return JsonResponse({"id": snapshot.pk}, status=201)


def status(request):
    """The process, its threads, and the Twisted pool that runs this request."""
    thread = threading.current_thread().name
    return JsonResponse(
        {
            "pid": os.getpid(),
            "thread": thread,
            "threads": sorted(t.name for t in threading.enumerate()),
            "pool": twisted_pool_state(thread),
        }
    )


def twisted_pool_state(thread_name):
    """Describe the thread pool that owns this thread, or return None.

    A diagnostic for the tutorial, not a pattern to copy. The site does not
    import Twisted, so that any WSGI server can run it. Twisted names a pool's
    threads ``PoolThread-<pool name or id>-<n>``, and so does the
    twistd-django package's WSGI pool, so look through all live objects for a
    Twisted ``ThreadPool`` or a package ``WSGIPool`` whose threads are named
    like this one. ``workers`` is how many threads the pool believes it has,
    ``live_threads`` how many of them exist: after a fork, the two differ.
    """
    kinds = tuple(
        getattr(sys.modules[module], name)
        for module, name in POOL_CLASSES
        if module in sys.modules
    )
    if not kinds or not thread_name.startswith("PoolThread-"):
        return None
    for obj in gc.get_objects():
        # type(), not isinstance(): isinstance() reads obj.__class__, which
        # would evaluate lazy objects such as another request's user.
        if issubclass(type(obj), kinds):
            prefix = f"PoolThread-{obj.name or id(obj)}-"
            if is_numbered(thread_name, prefix):
                return pool_state(obj, prefix)
    return None


POOL_CLASSES = (
    ("twisted.python.threadpool", "ThreadPool"),
    ("twistd_django.pool", "WSGIPool"),
)


def pool_state(pool, prefix):
    live = [t.name for t in threading.enumerate() if is_numbered(t.name, prefix)]
    queued = pool.queued() if hasattr(pool, "queued") else pool._queue.qsize()
    return {
        "name": pool.name,
        "min": pool.min,
        "max": pool.max,
        "workers": pool.workers,
        "busy": len(pool.working),
        "idle": len(pool.waiters),
        "queued": queued,
        "live_threads": len(live),
    }


def is_numbered(name, prefix):
    """Is ``name`` the ``prefix`` and a number, as ``PoolThread-wsgi-`` and 3?"""
    return name.startswith(prefix) and name[len(prefix) :].isdigit()


def slow(request):
    """Sleep ``?seconds=N`` (default 1, at most 30), then say so."""
    try:
        seconds = number(request, "seconds", float, default=1.0, low=0, high=30)
    except ValueError as error:
        return text(str(error), status=400)
    time.sleep(seconds)
    return text(f"slept {seconds:.1f} s")


def stream(request):
    """Stream ``?chunks=N`` lines, ``?delay=S`` seconds apart, then "done".

    With ``?fail_after=N``, raise RuntimeError once N chunks are sent: an
    error in the middle of a response, which the server can only report by
    closing the connection. With ``?db=1``, each chunk also counts the
    snapshots: the response holds a database connection while it streams.
    """
    try:
        chunks = number(request, "chunks", int, default=5, low=1, high=1000)
        delay = number(request, "delay", float, default=0.2, low=0, high=5)
        fail_after = number(request, "fail_after", int, default=None, low=0, high=1000)
    except ValueError as error:
        return text(str(error), status=400)
    use_db = request.GET.get("db") == "1"

    def fail(sent):
        if sent == fail_after:
            raise RuntimeError(f"stream: deliberate failure after {sent} chunks")

    def lines():
        for i in range(chunks):
            fail(i)
            if i:
                time.sleep(delay)
            counted = f" ({Snapshot.objects.count()} snapshots)" if use_db else ""
            yield f"chunk {i}{counted}\n"
        fail(chunks)
        yield "done\n"

    return StreamingHttpResponse(lines(), content_type="text/plain")


def plain(request):
    """The smallest response, for benchmarks."""
    return HttpResponse("ok\n", content_type="text/plain")


def boom(request):
    """Fail, to show where the traceback of a server error goes."""
    raise RuntimeError("boom: deliberate failure for the logging tests")


def number(request, name, kind, default, low, high):
    """Read query parameter ``name`` as a ``kind`` clamped to [low, high]."""
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name} must be {what}, not {raw!r}")
    return min(max(value, low), high)


def text(message, status=200):
    return HttpResponse(f"{message}\n", content_type="text/plain", status=status)


@csrf_exempt  # Backup agents are programs, not browsers with a CSRF cookie.
@require_POST
def upload_log(request):
    """Store an agent's log file under MEDIA_ROOT/logs/<host>/: 201 and its URL."""
    upload = request.FILES.get("file")
    host = request.POST.get("host", "")
    if upload is None or not host.isidentifier():
        return HttpResponse(
            "bad upload: send a file field and a host name\n",
            status=400,
            content_type="text/plain",
        )
    name = default_storage.save(f"logs/{host}/{upload.name}", upload)
    return JsonResponse({"url": default_storage.url(name)}, status=201)
