from django.contrib import admin

from .models import Host, Snapshot


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    list_display = ["name", "created"]
    list_filter = ["created"]
    search_fields = ["name"]


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "host",
        "status",
        "size_bytes",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "host", "started_at"]
    list_select_related = ["host"]
    search_fields = ["label", "host__name"]
    date_hierarchy = "started_at"
