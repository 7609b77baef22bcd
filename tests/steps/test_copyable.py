"""The last tutorial step, copied alone into a fresh Django project, serves it."""

import os
import shutil
import sys
from pathlib import Path

from support.daemon import Twistd
from support.startproject import assert_admin_is_served, start_project
from support.steps import STEPS

LAST_FOLDER_STEP = [s for s in STEPS if s.kind == "tap" and not s.installed][-1]


def test_the_last_step_serves_a_fresh_startproject(tmp_path, request):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    start_project(tmp_path, Path(sys.executable).parent, env)

    # What the tutorial tells a reader to copy: the plugin and its package.
    for part in ("twisted", "djangostep"):
        shutil.copytree(LAST_FOLDER_STEP.folder / part, tmp_path / part)

    env["PYTHONPATH"] = str(tmp_path)
    daemon = Twistd(
        workdir=tmp_path,
        args=["djangostep", "--settings", "mysite.settings", "--listen", "tcp:{port}"],
        env=env,
    )
    request.addfinalizer(daemon.kill)
    daemon.start()
    assert_admin_is_served(daemon.port)
    daemon.stop()
