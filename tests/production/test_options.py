"""The final plugin rejects bad options with a clear usage error."""

import os
import subprocess
import sys

import pytest

from support.steps import FINAL_TAP, STEPS

BAD_OPTIONS = [
    (["--threads", "0"], "--threads: expected a whole number from 1 up, not '0'."),
    (["--threads", "x"], "--threads: expected a whole number from 1 up, not 'x'."),
    (["--drain-timeout", "-1"], "--drain-timeout: expected 0 to 3600 seconds, not"),
    (["--settings", "no.such.settings"], "--settings: no module named"),
    (["--static-root", "/no/such/dir"], "--static-root: '/no/such/dir' is not a"),
    (["--mount", "docs=/tmp"], "--mount: expected /PREFIX/=DIR, not 'docs=/tmp'."),
    (["--mount", "/docs/=/no/such/dir"], "--mount: '/no/such/dir' is not a"),
    (["--bogus"], "option --bogus not recognized"),
]


@pytest.mark.parametrize(
    "extra_args,message", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS]
)
def test_bad_option_is_a_usage_error(twistd, extra_args, message):
    daemon = twistd(FINAL_TAP, extra_args=extra_args, start=False)
    status = daemon.launch()
    output = daemon.output.decode()
    assert status == 1, output
    assert message in output
    assert not daemon.pidfile.exists()


def test_missing_settings_is_a_usage_error(twistd):
    daemon = twistd(FINAL_TAP, start=False)
    daemon.args = ["django"]  # No --settings, and no DJANGO_SETTINGS_MODULE.
    assert daemon.launch() == 1
    assert "pass --settings or set DJANGO_SETTINGS_MODULE" in daemon.output.decode()


def test_help_lists_the_options(twistd):
    daemon = twistd(FINAL_TAP, extra_args=["--help"], start=False)
    assert daemon.launch() == 0
    output = daemon.output.decode()
    for option in ("--settings", "--listen", "--static-root", "--threads"):
        assert option in output
    assert "[default: tcp:8080:interface=127.0.0.1]" in output


@pytest.mark.parametrize(
    "step", [s for s in STEPS if s.kind == "tap"], ids=lambda s: s.id
)
def test_importing_the_plugin_imports_neither_django_nor_the_package(step, tmp_path):
    """twistd imports every plugin on every run: keep that fast and harmless.
    The package's plugin module does not even import the package."""
    module = "twistd_django_plugin" if step.installed else "django_site"
    check = (
        f"import sys; from twisted.plugins import {module}; "
        "print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('django', 'twistd_django')))"
    )
    env = {**os.environ, "PYTHONPATH": str(step.copy_to(tmp_path))}
    result = subprocess.run(
        [sys.executable, "-c", check],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
