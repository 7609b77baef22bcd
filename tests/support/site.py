"""The example Django site's environment and set-up, for the tests."""

import os
import subprocess
import sys

from .steps import SITE

SECRET_KEY = "test-only-secret-key-" + "x" * 40


def manage(*args, env, timeout=120):
    """Run the example site's manage.py; fail with its output."""
    result = subprocess.run(
        [sys.executable, str(SITE / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {args} failed:\n{result.stderr}"
    return result.stdout


def site_env(data_dir):
    """The environment a daemon needs to serve the example site."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        BACKUPSITE_DATA_DIR=str(data_dir),
        DJANGO_SECRET_KEY=SECRET_KEY,
    )
    return env


def prepare_site(data_dir):
    """Set up the example site's data: migrate, then collectstatic."""
    env = site_env(data_dir)
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", env=env)
    return data_dir
