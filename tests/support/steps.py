"""The tutorial's steps, as listed in examples/steps.toml."""

import shutil
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SITE = EXAMPLES / "site"
STEPS_FILE = EXAMPLES / "steps.toml"
RUNTIME_FILES = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "dropin.cache", "*.pid", "*.log", "*.sqlite3", "var"
)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    kind: str
    path: str
    args: list
    daemonized: str
    foreground: str
    env: dict = field(default_factory=dict)
    in_flight_sigterm: str | None = None
    installed: bool = False

    @property
    def folder(self):
        return ROOT / self.path

    @property
    def page(self):
        """The step's tutorial page: docs/tutorial/KIND/NN-slug.rst."""
        return (
            ROOT / "docs" / "tutorial" / self.kind / f"{self.id.split('-', 1)[1]}.rst"
        )

    def claim(self, daemonize):
        return self.daemonized if daemonize else self.foreground

    def copy_to(self, directory):
        """Copy the step's folder, alone, into ``directory``. A step that runs
        the installed package gets an empty folder: nothing to put on
        PYTHONPATH, the code comes from the environment."""
        if self.installed:
            target = Path(directory) / "installed-package"
            target.mkdir()
            return target
        target = Path(directory) / Path(self.path).name
        shutil.copytree(self.folder, target, ignore=RUNTIME_FILES)
        return target


def load_steps():
    with STEPS_FILE.open("rb") as f:
        return [Step(**entry) for entry in tomllib.load(f)["step"]]


STEPS = load_steps()
FINAL_TAP = [s for s in STEPS if s.kind == "tap"][-1]
PACKAGE = next(s for s in STEPS if s.installed)
