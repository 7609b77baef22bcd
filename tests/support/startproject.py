"""A fresh ``django-admin startproject`` site, and what its admin must serve."""

import subprocess
from pathlib import Path

from .http import get

SETTINGS_TAIL = """
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
STATIC_ROOT = BASE_DIR / "collected-static"
"""


def run(*args, cwd, env, timeout=120):
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"$ {' '.join(map(str, args))}\nexit status {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
    )
    return result


def start_project(directory, bin_dir, env):
    """``startproject mysite`` in ``directory``, DEBUG off, migrated, static
    files collected, with the Python and django-admin of ``bin_dir``."""
    directory, bin_dir = Path(directory), Path(bin_dir)
    run(
        bin_dir / "django-admin",
        "startproject",
        "mysite",
        directory,
        cwd=directory,
        env=env,
    )
    with (directory / "mysite" / "settings.py").open("a") as settings:
        settings.write(SETTINGS_TAIL)
    for command in ("migrate", "collectstatic"):
        run(
            bin_dir / "python",
            "manage.py",
            command,
            "--noinput",
            cwd=directory,
            env=env,
        )
    return directory


def assert_admin_is_served(port):
    """The admin's login page, its CSS as text/css, and no directory listing."""
    login = get(port, "/admin/login/")
    assert login.status == 200
    assert "Django administration" in login.text
    css = get(port, "/static/admin/css/base.css")
    assert css.status == 200
    assert css.headers["Content-Type"].startswith("text/css")
    listing = get(port, "/static/admin/")
    assert listing.status == 404
    assert "base.css" not in listing.text
    redirect = get(port, "/admin/")
    assert redirect.status == 302
    assert redirect.headers["Location"] == "/admin/login/?next=/admin/"
