"""The docs' sandbox as a clone of the repository, and the tutorial as one walk.

A page's console blocks run in a sandbox that holds a copy of ``examples/``
(support/console.py). The tutorial's first step starts where a reader
starts, at the root of a clone, with ``make venv`` and
``. .venv/bin/activate``; :func:`prepare_clone` adds what those two commands
need, and what a build of the package's wheel reads (``README.md``,
``src/``): the Makefile, the files its install step depends on, and a ``.venv``
that is this test run's own environment, already installed (its
``.installed`` stamp is newer than those files, so ``make venv`` only says
so, and never installs into the environment that runs the tests).

Each tutorial page begins where the previous one ended: in the same folder,
with the same variables exported, and no daemon running. The in-order walk
(tests/docs/test_tutorial_walk.py) runs every tutorial page's console blocks
in one sandbox, in the order of the tutorial's table of contents. Run alone,
a page first catches up with the end of the previous one, in an invisible
block whose first command is a comment that starts with ``# catch up``; the
walk skips those blocks, so that a page that depends on something the
previous page did not leave behind fails there.
"""

import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial"
#: The files of the repository, beside examples/, that ``make venv`` reads.
CLONE_FILES = ("Makefile", "pyproject.toml", "requirements/ci.txt")
RUNTIME = shutil.ignore_patterns("__pycache__", "*.pyc", "dropin.cache")
#: The first command of a block that only a page run alone needs.
CATCH_UP = "# catch up"


def prepare_clone(sandbox, prefix=None):
    """Make ``sandbox`` look like a clone whose ``make venv`` has run.

    ``.venv`` is a folder of links to the environment at ``prefix`` (default:
    the one running this Python), with a ``bin/`` of its own that holds the
    links and a fresh ``.installed`` stamp.
    """
    sandbox = Path(sandbox)
    prefix = Path(prefix or sys.prefix)
    for name in CLONE_FILES:
        target = sandbox / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    shutil.copy2(ROOT / "README.md", sandbox / "README.md")
    shutil.copytree(ROOT / "src", sandbox / "src", ignore=RUNTIME)
    venv = sandbox / ".venv"
    (venv / "bin").mkdir(parents=True)
    for entry in prefix.iterdir():
        if entry.name != "bin":
            (venv / entry.name).symlink_to(entry)
    for entry in (prefix / "bin").iterdir():
        if entry.name != ".installed":
            (venv / "bin" / entry.name).symlink_to(entry)
    stamp = venv / "bin" / ".installed"
    stamp.touch()
    newest = max((sandbox / name).stat().st_mtime for name in CLONE_FILES)
    when = max(stamp.stat().st_mtime, newest + 1)
    os.utime(stamp, (when, when))
    return sandbox


def toctree_entries(index):
    """The documents that the toctrees of ``index`` name, in order, with
    each ``:glob:`` pattern expanded in sorted order, as Sphinx does."""
    entries = []
    lines = Path(index).read_text().splitlines()
    inside = glob = False
    for line in lines:
        if line.startswith(".. toctree::"):
            inside, glob = True, False
            continue
        if not inside:
            continue
        if line and not line[0].isspace():
            inside = False
            continue
        text = line.strip()
        if text == ":glob:":
            glob = True
        if not text or text.startswith(":"):
            continue
        target = re.sub(r"^.*<(.+)>$", r"\1", text)
        base = Path(index).parent
        if glob and any(c in target for c in "*?["):
            entries += sorted(p.with_suffix("") for p in base.glob(target + ".rst"))
        else:
            entries.append(base / target)
    return [Path(str(entry) + ".rst") for entry in entries]


def tutorial_pages():
    """The tutorial's pages, in reading order."""
    return toctree_entries(TUTORIAL / "index.rst")


def is_catch_up(session):
    """Whether a parsed console block only catches a page run alone up."""
    commands = getattr(session, "commands", ())
    return bool(commands) and commands[0].text.lstrip().startswith(CATCH_UP)
