from django.db import models
from django.utils import timezone


class Host(models.Model):
    """A machine whose backup agent reports snapshots."""

    name = models.CharField(max_length=255, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Snapshot(models.Model):
    """One backup run of one host: what it saved, when, and how it went."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        FAILED = "failed", "Failed"
        RUNNING = "running", "Running"

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="snapshots")
    label = models.CharField(max_length=255, help_text="What was saved, e.g. a path.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RUNNING
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.host}: {self.label} ({self.started_at:%Y-%m-%d %H:%M})"
