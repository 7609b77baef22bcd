"""docs/howto/run-under-systemd.rst, step by step, in a scratch root.

The how-to's steps are examples/recipes/systemd/install.sh, which the page
includes part by part. This test runs that script with every absolute path
it writes moved under a scratch root, and then runs the installed unit's
``ExecStart=`` as systemd would: through the socket-activation launcher,
with the unit's ``EnvironmentFile=`` and ``Environment=``, its credential,
its working directory and its logs folder. What the scratch root cannot do
(a user, a running systemd, a package index) is stood in for as
support/scratch_root.py says.
"""

import re
import shlex
import signal

import pytest

from support.http import get, port_open
from support.procs import wait_until
from support.recipes import RECIPES
from support.scratch_root import ScratchRoot, UnitProcess, environment_file

LAUNCHER = RECIPES / "systemd" / "socket_activate.py"
SCRIPT = "examples/recipes/systemd/install.sh"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """install.sh, run once in a scratch root."""
    scratch = ScratchRoot(tmp_path_factory.mktemp("howto-systemd"))
    scratch.run_script(SCRIPT)
    return scratch


def service(scratch, tmp_path, **kwargs):
    return UnitProcess(
        scratch,
        "backupsite.service",
        tmp_path,
        launcher=LAUNCHER,
        socket_name="web",
        **kwargs,
    )


def test_the_script_makes_the_user_and_hands_the_folders_to_it(scratch):
    root, calls = scratch.root, scratch.calls()
    assert calls[:2] == [
        "id -u backupsite",
        "useradd --system --user-group --home-dir "
        f"{root}/srv/backupsite --shell /usr/sbin/nologin backupsite",
    ]
    assert f"chgrp backupsite {root}/etc/backupsite" in calls
    assert f"chown backupsite:backupsite {root}/var/lib/backupsite" in calls
    manage = [c for c in calls if c.startswith("runuser")]
    assert [shlex.split(c)[1:4] for c in manage] == [["-u", "backupsite", "--"]] * 2


def test_the_package_is_installed_from_the_repository(scratch):
    (site,) = scratch.venv.glob("lib/python3*/site-packages")
    plugin = site / "twisted/plugins/twistd_django_plugin.py"
    assert plugin.is_file() and not plugin.is_symlink()
    assert (site / "twistd_django" / "service.py").is_file()
    assert list(site.glob("twistd_django-*.dist-info"))


def test_the_key_and_the_environment_file(scratch):
    etc = scratch.path("/etc/backupsite")
    key = etc / "secret_key"
    assert len(key.read_text().strip()) >= 50
    assert key.stat().st_mode & 0o777 == 0o640
    assert (etc / "backupsite.env").stat().st_mode & 0o777 == 0o640
    assert (etc.stat().st_mode & 0o777) == 0o750
    env = environment_file(etc / "backupsite.env")
    assert env["DJANGO_SETTINGS_MODULE"] == "backupsite.settings_production"
    assert env["DJANGO_ALLOWED_HOSTS"] == "backup.example.com"


def test_migrate_and_collectstatic_ran_with_the_services_environment(scratch):
    data = scratch.path("/var/lib/backupsite")
    assert (data / "db.sqlite3").is_file()
    assert (data / "static" / "staticfiles.json").is_file()
    assert "static files copied to" in scratch.outputs[0]


def test_the_units_are_installed_checked_and_the_socket_enabled(scratch):
    calls = scratch.calls()
    units = scratch.path("/etc/systemd/system")
    assert sorted(p.name for p in units.iterdir()) == [
        "backupsite.service",
        "backupsite.socket",
    ]
    assert calls[-3:] == [
        f"systemd-analyze verify {units}/backupsite.socket {units}/backupsite.service",
        "systemctl daemon-reload",
        "systemctl enable --now backupsite.socket",
    ]


def test_systemd_analyze_verify_the_installed_units(scratch, tmp_path):
    names = ["backupsite.socket", "backupsite.service"]
    assert scratch.verify_units(names, tmp_path) == ""


#: The lines of twistd's log that docs/howto/run-under-systemd.rst shows, as
#: journalctl -u backupsite.service prints them.
JOURNAL = (
    r"\[twisted\.scripts\._twistd_unix\.UnixAppLogger#info\] twistd [\d.]+ \(.*"
    r"/srv/backupsite/venv/bin/python 3[\d.]+\) starting up\.$",
    r"\[twisted\.scripts\._twistd_unix\.UnixAppLogger#info\] reactor class: "
    r"twisted\.internet\.epollreactor\.EPollReactor\.$",
    r"\[-\] LimitedSite starting on \d+$",
    r"\[twisted\.internet\.base#info\] Received SIGTERM, shutting down\.$",
    r"\[twisted\.scripts\._twistd_unix\.UnixAppLogger#info\] Server Shut Down\.$",
)


def test_the_service_serves_with_the_units_environment(scratch, tmp_path):
    web = service(scratch, tmp_path)
    try:
        assert wait_until(
            lambda: port_open(web.port) or web.process.poll() is not None, 10
        )
        live = get(web.port, "/_twistd/live", timeout=20)
        assert live.status == 200
        name = web.env["DJANGO_ALLOWED_HOSTS"]
        home = get(web.port, "/", headers={"Host": name})
        assert home.status == 301 and home.headers["location"] == f"https://{name}/"
        other = get(web.port, "/", headers={"Host": "other.example.com"})
        assert other.status == 400
        access = web.logs / "access.log"
        assert wait_until(lambda: access.exists() and " 400 " in access.read_text(), 5)
    finally:
        journal = web.stop()
    # The lines the how-to shows from journalctl -u backupsite.service.
    for pattern in JOURNAL:
        assert re.search(pattern, journal, re.MULTILINE), (pattern, journal)
    assert web.process.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in journal


def test_failure_a_database_that_was_never_migrated(scratch, tmp_path):
    empty = tmp_path / "data"
    empty.mkdir()
    web = service(scratch, tmp_path, data=empty)
    journal = web.journal(30)
    assert web.process.returncode == 1
    assert re.search(
        r"database 'default' \(.*db\.sqlite3\): no such file; run manage\.py "
        r"migrate\.",
        journal,
    ), journal


def test_failure_the_secret_key_credential_is_missing(scratch, tmp_path):
    web = service(scratch, tmp_path, credential=False)
    journal = web.journal(30)
    assert web.process.returncode == 1
    assert re.search(
        r"DJANGO_SECRET_KEY_FILE names '.*/credentials/secret_key', which cannot "
        r"be read: No such file or directory\.",
        journal,
    ), journal
