"""Daemons that start as root and drop to ``nobody`` (``twistd --uid``).

twistd imports the plugin, the settings and whatever ``makeService`` needs
as root, then forks, drops its privileges, and only then starts its
services and serves. Whatever the site imports or opens after that (its URL
conf, views and templates on the first request, the SQLite database) must
be readable by the dropped user. A checkout in a folder only root may
enter (a clone under ``mktemp -d``, a home of mode 0700), or pytest's own
temporary folder (``/tmp/pytest-of-root``, mode 0700), is not: the daemon
then answers ``No module named 'backupsite.urls'``, or a 500.

So these tests serve a copy the dropped user can read, wherever the checkout
is: the example site, the step's folder and the twistd working folder, in a
folder of mode 0755 in the system's temporary folder, and a data folder the
dropped user owns (SQLite writes its journal beside the database). When the
virtual environment's packages, or the package's ``src/``, are out of the
dropped user's reach too (the environment lives in the checkout), they are
copied as well, as hard links where the file system allows (instant), and
put first on the daemon's PYTHONPATH, so that every module the daemon
imports, before the drop and after it, comes from the copy.

One thing is not copied: the Python interpreter's own standard library. If
it lives where the user cannot read (pyenv's under /root, mode 0700), a
module that no code imported before the drop fails to import after it; the
pages the tests fetch need none.
"""

import errno
import os
import pwd
import shutil
import site
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from .procs import kill_hard, pids_below
from .site import prepare_site
from .steps import ROOT, RUNTIME_FILES, SITE

USER = "nobody"
try:
    NOBODY = pwd.getpwnam(USER)
    UID = NOBODY.pw_uid
    #: nobody's own group: "nogroup" on Debian, "nobody" on Fedora.
    GID = NOBODY.pw_gid
except KeyError:  # No such user: the usual numbers.
    UID = GID = 65534
DROP_ARGS = [f"--uid={UID}", f"--gid={GID}"]

needs_root = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="starts twistd as root to test its privilege drop (--uid nobody):"
    " run the tests as root, as CI does",
)


def make_readable(path):
    """chmod a+rX, recursively: files readable, folders enterable."""
    for folder, _dirs, files in os.walk(path):
        os.chmod(folder, os.stat(folder).st_mode | 0o755)
        for name in files:
            file = os.path.join(folder, name)
            os.chmod(file, os.stat(file).st_mode | stat.S_IRUSR | 0o044)


def _chown(path, uid, gid):
    for folder, _dirs, files in os.walk(path):
        os.chown(folder, uid, gid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, gid)


def can_read(path):
    """Whether ``nobody`` can read ``path``, and enter every folder above it."""
    result = subprocess.run(
        ["test", "-r", str(path), "-a", "-x", str(path)],
        user=UID,
        group=GID,
        extra_groups=[],
        check=False,
    )
    return result.returncode == 0


def shared_tempdir():
    """A temporary folder that ``nobody`` can enter: the system's (TMPDIR,
    else /tmp), or /tmp or /var/tmp when TMPDIR is a private folder."""
    for folder in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        if os.path.isdir(folder) and (os.geteuid() != 0 or can_enter(folder)):
            return folder
    raise RuntimeError("no temporary folder that nobody can enter")


def can_enter(path):
    """Whether ``nobody`` can enter ``path`` (and every folder above it)."""
    result = subprocess.run(
        ["test", "-x", str(path)], user=UID, group=GID, extra_groups=[], check=False
    )
    return result.returncode == 0


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copy2(source, target)


def python_path_copies(root):
    """Copies, under ``root``, of the folders the daemon imports from that
    ``nobody`` cannot read: the environment's site-packages, and the
    package's src/ (its editable install). The folders to put first on
    PYTHONPATH, in order."""
    wanted = [*site.getsitepackages(), str(ROOT / "src")]
    copies = []
    for n, folder in enumerate(wanted):
        if not os.path.isdir(folder) or can_read(folder):
            continue
        target = root / "python" / f"{n}-{Path(folder).name}"
        shutil.copytree(folder, target, symlinks=True, copy_function=_link_or_copy)
        make_readable(target)
        copies.append(str(target))
    return copies


@dataclass
class UnprivilegedSite:
    """A copy of the example site, its data, and room for working folders,
    all readable by ``nobody``, under ``root``; ``python_path``: the copies
    of the Python packages to put first on PYTHONPATH (none when nobody can
    read the originals)."""

    root: Path
    site: Path
    data: Path
    python_path: list

    def workdir(self, name):
        """A new working folder for one daemon (root's; readable by all)."""
        folder = Path(tempfile.mkdtemp(prefix=f"{name[:40]}-", dir=self.root / "runs"))
        os.chmod(folder, 0o755)
        return folder

    def remove(self):
        for pid in pids_below(self.root):
            kill_hard(pid)
        shutil.rmtree(self.root, ignore_errors=True)


def unprivileged_site():
    """Make the copy; the caller removes it (``remove()``)."""
    root = Path(tempfile.mkdtemp(prefix="twistd-django-nobody-", dir=shared_tempdir()))
    os.chmod(root, 0o755)  # mkdtemp makes it 0700.
    try:
        site_copy = root / "site"
        shutil.copytree(SITE, site_copy, ignore=RUNTIME_FILES)
        make_readable(site_copy)
        data = prepare_site(root / "data")
        _chown(data, UID, GID)
        (root / "runs").mkdir(mode=0o755)
        os.chmod(root / "runs", 0o755)
        python_path = python_path_copies(root)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return UnprivilegedSite(root, site_copy, data, python_path)
