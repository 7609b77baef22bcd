"""The example site's production settings pass Django's deployment checks."""

import secrets
import subprocess
import sys

from support.site import manage, site_env
from support.steps import SITE


def test_check_deploy_is_clean(tmp_path):
    env = site_env(tmp_path)
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["DJANGO_SETTINGS_MODULE"] = "backupsite.settings_production"
    output = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert "System check identified no issues (0 silenced)." in output


def test_production_settings_refuse_a_missing_secret_key(tmp_path):
    env = site_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    env["DJANGO_SETTINGS_MODULE"] = "backupsite.settings_production"
    result = subprocess.run(
        [sys.executable, str(SITE / "manage.py"), "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Production needs a secret key" in result.stderr
