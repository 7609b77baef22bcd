"""The example Django site's environment and set-up, for the tests.

Django's settings are global to a process, so whatever runs the site runs in
a fresh Python: ``manage.py``, or a script run with ``python -c``.
"""

import json
import os
import subprocess
import sys
import textwrap

from .steps import SITE

SECRET_KEY = "test-only-secret-key-" + "x" * 40
#: The prefixes of the variables that the site reads: none is inherited.
SITE_VARIABLES = ("DJANGO_", "BACKUPSITE_")
TIMEOUT = 120


def site_env(data_dir, **changes):
    """The environment a process needs to serve the example site.

    This process's environment without PYTHONPATH or any DJANGO_* or
    BACKUPSITE_* variable, with the data directory and a secret key set; then
    ``changes``, where a value of None removes the variable. Every value is
    made a string.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if name != "PYTHONPATH" and not name.startswith(SITE_VARIABLES)
    }
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        BACKUPSITE_DATA_DIR=str(data_dir),
        DJANGO_SECRET_KEY=SECRET_KEY,
    )
    env.update(changes)
    return {name: str(value) for name, value in env.items() if value is not None}


def run_python(*args, env, cwd=None, timeout=TIMEOUT):
    """Run this Python with ``args``; return the CompletedProcess, whatever
    its exit status, with its stdout and stderr as text."""
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_manage(*args, env, cwd=None, timeout=TIMEOUT):
    """Run the example site's manage.py; return the CompletedProcess."""
    return run_python(str(SITE / "manage.py"), *args, env=env, cwd=cwd, timeout=timeout)


def manage(*args, env, cwd=None, timeout=TIMEOUT):
    """Run the example site's manage.py; fail with its output; return its stdout."""
    result = run_manage(*args, env=env, cwd=cwd, timeout=timeout)
    assert result.returncode == 0, f"manage.py {args} failed:\n{result.stderr}"
    return result.stdout


def run_script(code, env, cwd=None, timeout=TIMEOUT):
    """Run Python ``code``, which prints one JSON document; return it."""
    result = run_python("-c", textwrap.dedent(code), env=env, cwd=cwd, timeout=timeout)
    assert result.returncode == 0, f"the script failed:\n{result.stderr}"
    return json.loads(result.stdout)


def prepare_site(data_dir, env=None, cwd=None, timeout=TIMEOUT):
    """Set up the example site's data: migrate, then collectstatic.

    ``env`` defaults to ``site_env(data_dir)``.
    """
    env = site_env(data_dir) if env is None else env
    manage("migrate", "--noinput", env=env, cwd=cwd, timeout=timeout)
    manage("collectstatic", "--noinput", env=env, cwd=cwd, timeout=timeout)
    return data_dir
