"""The final plugin, copied alone into a fresh Django project, serves it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from support.daemon import Twistd
from support.http import get
from support.steps import FINAL_TAP

SETTINGS_TAIL = """
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
STATIC_ROOT = BASE_DIR / "collected-static"
"""


def run(*args, cwd, env):
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stderr}"


def test_final_plugin_serves_a_fresh_startproject(tmp_path, request):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    django_admin = str(Path(sys.executable).parent / "django-admin")
    run(django_admin, "startproject", "mysite", str(tmp_path), cwd=tmp_path, env=env)
    with (tmp_path / "mysite" / "settings.py").open("a") as settings:
        settings.write(SETTINGS_TAIL)
    manage = [sys.executable, "manage.py"]
    run(*manage, "migrate", "--noinput", cwd=tmp_path, env=env)
    run(*manage, "collectstatic", "--noinput", cwd=tmp_path, env=env)

    # What the tutorial tells a reader to copy: the plugin and its package.
    for part in ("twisted", "twistd_django"):
        shutil.copytree(FINAL_TAP.folder / part, tmp_path / part)

    env["PYTHONPATH"] = str(tmp_path)
    daemon = Twistd(
        workdir=tmp_path,
        args=["django", "--settings", "mysite.settings", "--listen", "tcp:{port}"],
        env=env,
    )
    request.addfinalizer(daemon.kill)
    daemon.start()

    login = get(daemon.port, "/admin/login/")
    assert login.status == 200
    assert "Django administration" in login.text
    css = get(daemon.port, "/static/admin/css/base.css")
    assert css.status == 200
    assert css.headers["Content-Type"].startswith("text/css")
    listing = get(daemon.port, "/static/admin/")
    assert listing.status == 404
    assert "base.css" not in listing.text
    redirect = get(daemon.port, "/admin/")
    assert redirect.status == 302
    assert redirect.headers["Location"] == "/admin/login/?next=/admin/"
    daemon.stop()
