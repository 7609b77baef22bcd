"""examples/steps.toml is complete, and the examples hold no runtime files."""

import subprocess

from support.steps import EXAMPLES, ROOT, STEPS

KEYS = {"serves", "hangs"}
IN_FLIGHT = {None, "completes", "deadlocks", "cut-off-then-hangs"}


def step_folders():
    return sorted(
        str(folder.relative_to(ROOT))
        for kind in ("tap", "tac")
        for folder in (EXAMPLES / kind).iterdir()
        if folder.is_dir()
    )


def test_steps_list_names_every_step_folder_once():
    folders = sorted(step.path for step in STEPS if not step.installed)
    assert folders == step_folders()
    assert len({step.id for step in STEPS}) == len(STEPS)


def test_one_step_runs_the_installed_package_and_it_is_the_last_tap_step():
    installed = [step for step in STEPS if step.installed]
    assert [step.id for step in installed] == ["tap-05-package"]
    assert installed[0] is [s for s in STEPS if s.kind == "tap"][-1]
    assert installed[0].path == "src"
    assert (ROOT / "src" / "twistd_django" / "__init__.py").is_file()


def test_steps_list_values_are_known():
    for step in STEPS:
        assert step.kind in ("tap", "tac"), step.id
        if not step.installed:
            assert step.path.startswith(f"examples/{step.kind}/"), step.id
        assert {step.daemonized, step.foreground} <= KEYS, step.id
        assert step.in_flight_sigterm in IN_FLIGHT, step.id
        serving = "serves" in (step.daemonized, step.foreground)
        assert (step.in_flight_sigterm is not None) == serving, step.id
        if step.kind == "tac":
            assert step.args[0] == "-y"
            assert (step.folder / step.args[1]).is_file(), step.id


def test_plugins_folders_have_no_init():
    for step in STEPS:
        plugins = step.folder / "twisted" / "plugins"
        if step.kind == "tap":
            assert plugins.is_dir(), step.id
        assert not (plugins / "__init__.py").exists(), step.id
        assert not (step.folder / "twisted" / "__init__.py").exists(), step.id


def test_no_runtime_files_are_committed_under_examples():
    tracked = subprocess.run(
        ["git", "ls-files", "examples"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    runtime = [
        path
        for path in tracked
        if path.endswith(("dropin.cache", ".pid", ".log", ".sqlite3", ".pyc"))
        or "/var/" in path
        or "__pycache__" in path
    ]
    assert runtime == []


def step_files(step):
    ignored = ("__pycache__", "dropin.cache", ".pid", ".log", ".sqlite3", ".pyc")
    return {
        str(path.relative_to(step.folder)): path.read_bytes()
        for path in sorted(step.folder.rglob("*"))
        if path.is_file()
        and not any(part in str(path) for part in ignored)
        and not any(p.startswith(".") for p in path.relative_to(step.folder).parts)
    }


def changed_files(step):
    """Files that are new or different since the previous step of its kind."""
    same_kind = [s for s in STEPS if s.kind == step.kind]
    index = same_kind.index(step)
    before = step_files(same_kind[index - 1]) if index else {}
    return sorted(
        name for name, data in step_files(step).items() if before.get(name) != data
    )


def test_every_changed_file_is_shown_on_the_steps_page():
    for step in STEPS:
        page = step.page
        assert page.is_file(), f"{step.id} has no page {page}"
        if step.installed:
            continue  # Its page shows excerpts of the package, not a folder.
        folder = step.folder.name
        included = {
            line.split("examples/", 1)[1].strip()
            for line in page.read_text().splitlines()
            if line.startswith(".. literalinclude::") and "examples/" in line
        }
        for name in changed_files(step):
            assert f"{step.kind}/{folder}/{name}" in included, (
                f"{page.name} does not show {name}, which changed in {step.id}"
            )


def test_fixed_tac_uses_the_graceful_shutdown_package_unchanged():
    """Its page says the .tac file imports step 4's package: keep it true."""
    tac = ROOT / "examples" / "tac" / "02-multiservice" / "djangostep"
    tap = ROOT / "examples" / "tap" / "04-graceful-shutdown" / "djangostep"
    modules = sorted(p.name for p in tac.glob("*.py"))
    assert modules
    for name in modules:
        assert (tac / name).read_bytes() == (tap / name).read_bytes(), name
