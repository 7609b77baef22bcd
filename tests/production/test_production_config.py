"""The production plugin's config file: precedence, and clear errors."""

import json

import pytest

from support.http import get
from support.steps import PACKAGE

PRODUCTION = PACKAGE


def write_config(tmp_path, text):
    path = tmp_path / "django.ini"
    path.write_text(text)
    return str(path)


def pool_max(daemon):
    return json.loads(get(daemon.port, "/status.json").body)["pool"]["max"]


def test_config_file_values_are_used(twistd, tmp_path):
    config = write_config(tmp_path, "[django]\nthreads = 3\ndrain-timeout = 5\n")
    daemon = twistd(PRODUCTION, extra_args=["--config", config])
    assert pool_max(daemon) == 3


def test_command_line_overrides_config_file(twistd, tmp_path):
    config = write_config(tmp_path, "[django]\nthreads = 3\n")
    daemon = twistd(PRODUCTION, extra_args=["--config", config, "--threads", "4"])
    assert pool_max(daemon) == 4


def test_config_file_overrides_default_and_environment(twistd, tmp_path):
    config = write_config(tmp_path, "[django]\nsettings = backupsite.settings\n")
    daemon = twistd(
        PRODUCTION,
        env={"DJANGO_SETTINGS_MODULE": "no.such.module"},
        start=False,
    )
    daemon.args = ["django", "--config", config, "--listen", "tcp:{port}"]
    daemon.start()
    assert get(daemon.port, "/").status == 200


BAD_CONFIGS = [
    ("missing", None, "--config: cannot read"),
    ("a directory", "DIR", "Is a directory"),
    ("no section", "threads = 3\n", "is not valid: File contains no section"),
    ("wrong section", "[server]\nthreads = 3\n", "must have one section, [django]"),
    ("unknown key", "[django]\nthread = 3\n", "has unknown keys: thread."),
    ("bad value", "[django]\nthreads = 0\n", "threads: expected a whole number"),
    (
        "bad seconds",
        "[django]\ndrain-timeout = soon\n",
        "drain-timeout: expected 0 to 3600",
    ),
    (
        "bad yes/no",
        "[django]\ntrust-proxy = maybe\n",
        "trust-proxy: expected yes or no",
    ),
]


@pytest.mark.parametrize(
    "text,message", [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_bad_config_is_a_usage_error_and_starts_nothing(
    twistd, tmp_path, text, message
):
    if text is None:
        config = str(tmp_path / "absent.ini")
    elif text == "DIR":
        config = str(tmp_path)
    else:
        config = write_config(tmp_path, text)
    daemon = twistd(PRODUCTION, extra_args=["--config", config], start=False)
    status = daemon.launch()
    output = daemon.output.decode()
    assert status == 1, output
    assert message in output
    assert not daemon.pidfile.exists()


def test_bad_config_value_names_the_file_and_key(twistd, tmp_path):
    config = write_config(tmp_path, "[django]\nthreads = lots\n")
    daemon = twistd(PRODUCTION, extra_args=["--config", config], start=False)
    assert daemon.launch() == 1
    assert f"{config}: threads: expected a whole number" in daemon.output.decode()
