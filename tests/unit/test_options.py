"""DjangoOptions and its config file: where each value comes from, and the
usage error that each bad value gets."""

import pytest
from twisted.python import usage

from twistd_django.options import PARAMETERS, DjangoOptions, Parameter, whole_number


@pytest.fixture(autouse=True)
def no_settings_in_environment(monkeypatch):
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Create importable settings modules: ``settings("name")`` makes
    ``name.py`` on sys.path and returns the module name."""
    folder = tmp_path / "importable"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))

    def make(name):
        (folder / f"{name}.py").write_text("DEBUG = False\n")
        return name

    return make


@pytest.fixture
def config_file(tmp_path):
    """Write an INI file: ``config_file("[django]\\nthreads = 3")``."""

    def write(text, name="twistd-django.ini"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def parse(args, options_class=DjangoOptions):
    options = options_class()
    options.parseOptions(args)
    return options


def usage_error(args, options_class=DjangoOptions):
    with pytest.raises(usage.UsageError) as raised:
        parse(args, options_class)
    return str(raised.value)


# Precedence: command line > config file > environment variable > default.


def test_the_command_line_beats_the_config_file(settings, config_file):
    path = config_file("[django]\nthreads = 3\n")
    options = parse(["-s", settings("site_a"), "--config", path, "--threads", "5"])
    assert options["threads"] == 5


def test_the_config_file_beats_the_default(settings, config_file):
    path = config_file("[django]\nthreads = 3\n")
    options = parse(["-s", settings("site_a"), "--config", path])
    assert options["threads"] == 3


def test_the_default_applies_when_nothing_else_says(settings):
    options = parse(["-s", settings("site_a")])
    assert options["threads"] == 10
    assert options["listen"] == "tcp:8080:interface=127.0.0.1"


def test_settings_from_the_command_line_beat_file_and_environment(
    settings, config_file, monkeypatch
):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", settings("from_env"))
    path = config_file(f"[django]\nsettings = {settings('from_file')}\n")
    options = parse(["--config", path, "--settings", settings("from_cli")])
    assert options["settings"] == "from_cli"


def test_settings_from_the_config_file_beat_the_environment(
    settings, config_file, monkeypatch
):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", settings("from_env"))
    path = config_file(f"[django]\nsettings = {settings('from_file')}\n")
    assert parse(["--config", path])["settings"] == "from_file"


def test_settings_from_the_environment_when_nowhere_else(settings, monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", settings("from_env"))
    assert parse([])["settings"] == "from_env"


def test_no_settings_anywhere_is_a_usage_error():
    assert usage_error([]) == (
        "No Django settings: pass --settings or set DJANGO_SETTINGS_MODULE."
    )


def test_an_empty_environment_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "")
    assert "No Django settings" in usage_error([])


def test_a_bad_settings_module_in_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "no_such_settings_module_xyz")
    assert usage_error([]) == (
        "DJANGO_SETTINGS_MODULE: no module named 'no_such_settings_module_xyz'."
        " Is its folder on PYTHONPATH?"
    )


def test_values_are_converted_to_their_types(settings, tmp_path):
    options = parse(
        [
            "-s",
            settings("site_a"),
            "--drain-timeout",
            "2.5",
            "--trust-proxy",
            "yes",
            "--max-body",
            "0",
            "--static-root",
            str(tmp_path),
        ]
    )
    assert options["drain-timeout"] == 2.5
    assert options["trust-proxy"] is True
    assert options["max-body"] == 0
    assert options["static-root"] == str(tmp_path)


def test_defaults_are_converted_too(settings):
    options = parse(["-s", settings("site_a")])
    assert options["drain-timeout"] == 30.0
    assert options["ready-timeout"] == 2.0
    assert options["head-timeout"] == 20.0
    assert options["max-body"] == 10485760
    assert options["max-queue"] == 100
    assert options["trust-proxy"] is False
    assert options["fork-tripwire"] is True
    assert options["db-write-check"] is False


def test_an_option_without_a_default_stays_none(settings):
    options = parse(["-s", settings("site_a")])
    assert options["static-root"] is None
    assert options["media-root"] is None
    assert options["access-log"] is None
    assert options["config"] is None
    assert options["mounts"] == []


# The error message for each bad value.

BAD_VALUES = [
    (["--threads", "0"], "--threads: expected a whole number from 1 up, not '0'."),
    (["--threads", "abc"], "--threads: expected a whole number from 1 up, not 'abc'."),
    (["--threads", "-2"], "--threads: expected a whole number from 1 up, not '-2'."),
    (["-t", "1.5"], "--threads: expected a whole number from 1 up, not '1.5'."),
    (
        ["--drain-timeout", "-1"],
        "--drain-timeout: expected 0 to 3600 seconds, not '-1'.",
    ),
    (
        ["--drain-timeout", "3601"],
        "--drain-timeout: expected 0 to 3600 seconds, not '3601'.",
    ),
    (
        ["--drain-timeout", "soon"],
        "--drain-timeout: expected 0 to 3600 seconds, not 'soon'.",
    ),
    (
        ["--drain-timeout", "nan"],
        "--drain-timeout: expected 0 to 3600 seconds, not 'nan'.",
    ),
    (
        ["--ready-timeout", "0"],
        "--ready-timeout: expected 0.1 to 60 seconds, not '0'.",
    ),
    (
        ["--head-timeout", "-0.5"],
        "--head-timeout: expected 0 to 3600 seconds, not '-0.5'.",
    ),
    (["--max-body", "-5"], "--max-body: expected a whole number from 0 up, not '-5'."),
    (["--max-queue", "x"], "--max-queue: expected a whole number from 0 up, not 'x'."),
    (["--trust-proxy", "maybe"], "--trust-proxy: expected yes or no, not 'maybe'."),
    (["--fork-tripwire", "2"], "--fork-tripwire: expected yes or no, not '2'."),
    (
        ["--static-root", "/no/such/dir"],
        "--static-root: '/no/such/dir' is not a directory.",
    ),
    (
        ["--settings", "no_such_settings_module_xyz"],
        "--settings: no module named 'no_such_settings_module_xyz'."
        " Is its folder on PYTHONPATH?",
    ),
    (
        ["--settings", "os.path.nope"],
        "--settings: no module named 'os.path.nope'. Is its folder on PYTHONPATH?",
    ),
]


@pytest.mark.parametrize(
    "args,message", BAD_VALUES, ids=[" ".join(args) for args, _ in BAD_VALUES]
)
def test_a_bad_value_is_a_usage_error_that_names_its_option(settings, args, message):
    # The settings come first, so that the bad value is what fails (a later
    # --settings on the command line replaces this one).
    assert usage_error(["-s", settings("site_a"), *args]) == message


def test_the_lowest_and_highest_values_are_accepted(settings):
    options = parse(
        [
            "-s",
            settings("site_a"),
            "--threads",
            "1",
            "--drain-timeout",
            "0",
            "--head-timeout",
            "3600",
            "--ready-timeout",
            "0.1",
        ]
    )
    assert options["threads"] == 1
    assert options["drain-timeout"] == 0
    assert options["head-timeout"] == 3600
    assert options["ready-timeout"] == 0.1


def test_yes_and_no_are_read_in_their_usual_spellings(settings):
    for word, value in [("ON", True), ("true", True), ("1", True), ("Off", False)]:
        assert (
            parse(["-s", settings("site_a"), "--trust-proxy", word])["trust-proxy"]
            is value
        )


def test_a_bad_value_in_the_config_file_names_the_file_and_key(settings, config_file):
    path = config_file("[django]\nthreads = 0\n")
    assert usage_error(["-s", settings("site_a"), "--config", path]) == (
        f"{path}: threads: expected a whole number from 1 up, not '0'."
    )


def test_a_bad_value_in_the_config_file_does_not_matter_under_a_cli_value(
    settings, config_file
):
    path = config_file("[django]\nthreads = 0\n")
    assert (
        parse(["-s", settings("site_a"), "--config", path, "-t", "4"])["threads"] == 4
    )


# The config file's own errors.


def test_an_unknown_config_key_is_refused_and_the_known_keys_listed(
    settings, config_file
):
    path = config_file("[django]\nthreads = 3\nthredas = 4\nbogus = 1\n")
    message = usage_error(["-s", settings("site_a"), "--config", path])
    assert message == (
        f"--config: {path!r} has unknown keys: bogus, thredas."
        f" Known keys: {', '.join(PARAMETERS)}."
    )


def test_a_config_file_without_the_django_section_is_refused(settings, config_file):
    path = config_file("[twistd]\nthreads = 3\n")
    assert usage_error(["-s", settings("site_a"), "--config", path]) == (
        f"--config: {path!r} must have one section, [django]; it has ['twistd']."
    )


def test_a_config_file_with_a_second_section_is_refused(settings, config_file):
    path = config_file("[django]\nthreads = 3\n[other]\nx = 1\n")
    assert usage_error(["-s", settings("site_a"), "--config", path]) == (
        f"--config: {path!r} must have one section, [django];"
        " it has ['django', 'other']."
    )


def test_an_empty_config_file_is_refused(settings, config_file):
    path = config_file("")
    assert usage_error(["-s", settings("site_a"), "--config", path]) == (
        f"--config: {path!r} must have one section, [django]; it has none."
    )


def test_a_config_file_without_a_section_header_is_not_valid(settings, config_file):
    path = config_file("threads = 3\n")
    assert usage_error(["-s", settings("site_a"), "--config", path]) == (
        f"--config: {path!r} is not valid: File contains no section headers."
    )


def test_a_missing_config_file_cannot_be_read(settings, tmp_path):
    path = str(tmp_path / "missing.ini")
    assert usage_error(["-s", settings("site_a"), "--config", path]) == (
        f"--config: cannot read {path!r}: No such file or directory."
    )


def test_a_directory_as_config_file_cannot_be_read(settings, tmp_path):
    assert usage_error(["-s", settings("site_a"), "--config", str(tmp_path)]) == (
        f"--config: cannot read {str(tmp_path)!r}: Is a directory."
    )


def test_a_config_file_that_is_not_utf8_is_a_usage_error(settings, tmp_path):
    path = tmp_path / "latin1.ini"
    path.write_bytes("[django]\naccess-log = /var/log/caf\xe9.log\n".encode("latin-1"))
    message = usage_error(["-s", settings("site_a"), "--config", str(path)])
    assert message.startswith(f"--config: {str(path)!r}")


# --mount


def test_mount_is_repeatable_and_keeps_its_order(settings, tmp_path):
    docs, media = tmp_path / "docs", tmp_path / "media"
    docs.mkdir()
    media.mkdir()
    options = parse(
        [
            "-s",
            settings("site_a"),
            "--mount",
            f"/docs/={docs}",
            "--mount",
            f"/files/media/={media}",
        ]
    )
    assert options["mounts"] == [("/docs/", str(docs)), ("/files/media/", str(media))]


@pytest.mark.parametrize("value", ["docs=/tmp", "/=/tmp", "/docs/", "//=/tmp"])
def test_a_mount_that_is_not_prefix_equals_dir_is_a_usage_error(settings, value):
    assert usage_error(["-s", settings("site_a"), "--mount", value]) == (
        f"--mount: expected /PREFIX/=DIR, not {value!r}."
    )


def test_a_mount_of_a_missing_directory_is_a_usage_error(settings):
    assert usage_error(["-s", settings("site_a"), "--mount", "/docs/=/no/such"]) == (
        "--mount: '/no/such' is not a directory."
    )


# DjangoOptions.extended


BACKUP_PORT = {
    "backup-port": Parameter(
        None, "9000", "Port of the backup service.", whole_number(1), "port"
    )
}


def test_an_extended_option_is_read_from_the_command_line(settings):
    Extended = DjangoOptions.extended("BackupOptions", BACKUP_PORT)
    options = parse(["-s", settings("site_a"), "--backup-port", "9100"], Extended)
    assert options["backup-port"] == 9100
    assert options["threads"] == 10  # The base options are still there.


def test_an_extended_option_is_read_from_the_config_file(settings, config_file):
    Extended = DjangoOptions.extended("BackupOptions", BACKUP_PORT)
    path = config_file("[django]\nbackup-port = 9200\nthreads = 2\n")
    options = parse(["-s", settings("site_a"), "--config", path], Extended)
    assert options["backup-port"] == 9200
    assert options["threads"] == 2


def test_an_extended_option_has_its_default_and_its_check(settings):
    Extended = DjangoOptions.extended("BackupOptions", BACKUP_PORT)
    assert parse(["-s", settings("site_a")], Extended)["backup-port"] == 9000
    assert usage_error(["-s", settings("site_a"), "--backup-port", "0"], Extended) == (
        "--backup-port: expected a whole number from 1 up, not '0'."
    )


def test_extending_leaves_the_base_options_alone(settings, config_file):
    Extended = DjangoOptions.extended("BackupOptions", BACKUP_PORT)
    assert Extended.__name__ == "BackupOptions"
    assert issubclass(Extended, DjangoOptions)
    assert "backup-port" not in DjangoOptions.parameters
    path = config_file("[django]\nbackup-port = 9200\n")
    assert "has unknown keys: backup-port." in usage_error(
        ["-s", settings("site_a"), "--config", path]
    )


def test_an_extended_option_is_in_the_help():
    Extended = DjangoOptions.extended("BackupOptions", BACKUP_PORT)
    text = str(Extended())
    assert "--backup-port=" in text
    assert "--threads=" in text


# Help text


@pytest.mark.parametrize("name", list(PARAMETERS))
def test_every_parameter_is_in_the_help(name):
    assert f"--{name}=" in str(DjangoOptions())


def test_short_options_are_in_the_help():
    text = str(DjangoOptions())
    for short, name in [("s", "settings"), ("l", "listen"), ("t", "threads")]:
        assert PARAMETERS[name].short == short
        assert f"-{short}, --{name}=" in text


def test_the_help_shows_defaults_and_the_environment_variable():
    text = " ".join(str(DjangoOptions()).split())  # Undo the line wrapping.
    assert "[default: tcp:8080:interface=127.0.0.1]" in text
    assert "Threads in the WSGI pool. [default: 10]" in text
    assert "Django settings module. [default: $DJANGO_SETTINGS_MODULE]" in text
    assert "--config=" in text
    assert "--mount=" in text
