"""What the figures were measured on: the CPU, the cores and the versions."""

import datetime
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def describe(*packages):
    """The machine, and the installed version of each package."""
    versions = {}
    for name in ("twisted", "django", *packages):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        **versions,
    }
