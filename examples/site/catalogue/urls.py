from django.urls import path

from . import views

app_name = "catalogue"

urlpatterns = [
    path("", views.snapshot_list, name="snapshot-list"),
    path("snapshots/report/", views.report_snapshot, name="report-snapshot"),
    path("logs/upload/", views.upload_log, name="upload-log"),
    # Views made for the tutorial and its tests.
    path("status.json", views.status, name="status"),
    path("slow/", views.slow, name="slow"),
    path("stream/", views.stream, name="stream"),
    path("plain/", views.plain, name="plain"),
    path("boom/", views.boom, name="boom"),
]
