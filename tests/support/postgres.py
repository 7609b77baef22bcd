"""A throwaway PostgreSQL server for the tests: the distribution's binaries,
``initdb`` and ``pg_ctl`` in a temporary folder, a Unix socket only.

No system service and no TCP port: the server listens on a socket in its
own folder, runs as an unprivileged OS user (PostgreSQL refuses to run as
root; as root the harness runs it as ``nobody``, in a folder of the system's
temporary folder, which nobody can enter, not under pytest's, which is mode
0700), and is stopped, and its folder removed, at the end of the session.

The example site's database is migrated once, by an *owner* role, into a
template; each test gets its own copy of it (``CREATE DATABASE ... TEMPLATE``,
a file copy, much faster than migrating). The daemons connect as the *app*
role, which owns nothing and may not CREATE in ``public`` (the default
since PostgreSQL 15, made explicit here for older servers): it may only
read and write the tables the owner granted it.
"""

import atexit
import contextlib
import glob
import itertools
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .site import manage, site_env
from .unprivileged import GID, UID, shared_tempdir

SUPERUSER = "postgres"
OWNER = "backupsite_owner"
APP = "backupsite_app"
TEMPLATE = "backupsite_template"
PORT = 5432
SETTINGS = "backupsite.settings_postgres"
INSTALL = (
    "apt-get install postgresql (Debian, Ubuntu) or dnf install"
    " postgresql-server (Fedora)"
)
PSYCOPG = "pip install 'psycopg[binary,pool]' (the test extra)"
TIMEOUT = 60


class Unavailable(Exception):
    """PostgreSQL cannot run here; the message says what is missing."""


def find_bindir():
    """The folder of ``initdb`` and ``pg_ctl``: the newest server under
    /usr/lib/postgresql (Debian keeps them off PATH), else the one on PATH."""

    def version(path):
        match = re.search(r"/postgresql/(\d+)/bin$", path)
        return int(match.group(1)) if match else -1

    found = sorted(
        (
            folder
            for folder in glob.glob("/usr/lib/postgresql/*/bin")
            if os.access(os.path.join(folder, "pg_ctl"), os.X_OK)
            and os.access(os.path.join(folder, "initdb"), os.X_OK)
        ),
        key=version,
    )
    if found:
        return Path(found[-1])
    pg_ctl, initdb = shutil.which("pg_ctl"), shutil.which("initdb")
    if pg_ctl and initdb:
        return Path(pg_ctl).resolve().parent
    raise Unavailable(f"PostgreSQL's initdb and pg_ctl are not installed: {INSTALL}")


def psycopg():
    try:
        import psycopg
    except ImportError:
        raise Unavailable(f"psycopg is not installed: {PSYCOPG}") from None
    return psycopg


class Server:
    """One running server, in ``root``: ``root/data``, socket in ``root``."""

    def __init__(self, bindir, root):
        self.bindir = Path(bindir)
        self.root = Path(root)
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        self.user = None  # (uid, gid) to run as, when we are root.
        self._names = itertools.count(1)

    @property
    def socket_dir(self):
        return str(self.root)

    def _run(self, *args, timeout=TIMEOUT):
        kwargs = {}
        if self.user is not None:
            kwargs.update(user=self.user[0], group=self.user[1], extra_groups=[])
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "LANG": "C"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        if result.returncode:
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}):\n{result.stdout}"
                f"{result.stderr}\n--- {self.logfile} ---\n{self.log()}"
            )
        return result

    def log(self):
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return "(no server log)"

    def start(self):
        if os.geteuid() == 0:
            self.user = (UID, GID)
            os.chown(self.root, *self.user)
        os.chmod(self.root, 0o755)  # Clients, root or not, reach the socket.
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",  # Only this socket, in a folder of its own.
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        options = " ".join(
            [
                "-c listen_addresses=''",  # No TCP at all.
                f"-c unix_socket_directories='{self.root}'",
                f"-c port={PORT}",
                "-c max_connections=200",
                "-c fsync=off",  # A test server: speed over crash safety.
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        self._run(
            "pg_ctl",
            "start",
            "--wait",
            "--timeout",
            str(TIMEOUT),
            "--pgdata",
            str(self.data),
            "--log",
            str(self.logfile),
            "-o",
            options,
            timeout=TIMEOUT + 10,
        )
        return self

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "stop", "--pgdata", str(self.data), "-m", "fast")
            except (RuntimeError, subprocess.TimeoutExpired):
                self._kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill(self):
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 9)

    # SQL, as the superuser or any role.

    def connect(self, dbname="postgres", user=SUPERUSER):
        return psycopg().connect(
            host=self.socket_dir,
            port=PORT,
            dbname=dbname,
            user=user,
            autocommit=True,
            connect_timeout=10,
        )

    def sql(self, *statements, dbname="postgres", user=SUPERUSER, params=None):
        """Run ``statements``; return the rows of the last (which gets
        ``params``, if any)."""
        with contextlib.closing(self.connect(dbname, user)) as conn:
            rows = []
            for n, statement in enumerate(statements, 1):
                args = params if n == len(statements) else None
                cursor = conn.execute(statement, args)
                rows = cursor.fetchall() if cursor.description else []
            return rows

    def value(self, statement, dbname="postgres", user=SUPERUSER, params=None):
        return self.sql(statement, dbname=dbname, user=user, params=params)[0][0]

    def env(self, dbname, user=APP, **changes):
        """The BACKUPSITE_DB_* variables for ``dbname`` as ``user``."""
        return {
            "BACKUPSITE_DB_NAME": dbname,
            "BACKUPSITE_DB_USER": user,
            "BACKUPSITE_DB_HOST": self.socket_dir,
            "BACKUPSITE_DB_PORT": str(PORT),
            **changes,
        }

    # The example site's database.

    def prepare_template(self, site_data):
        """The roles, and the migrated template, migrated by the owner."""
        self.sql(
            f"CREATE ROLE {OWNER} LOGIN",
            f"CREATE ROLE {APP} LOGIN",
            f"CREATE DATABASE {TEMPLATE} OWNER {OWNER}",
        )
        # Before PostgreSQL 15 public belonged to the superuser and anyone
        # could CREATE in it; give it to the owner, and take CREATE away.
        self.sql(
            f"ALTER SCHEMA public OWNER TO {OWNER}",
            "REVOKE ALL ON SCHEMA public FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA public TO {APP}",
            dbname=TEMPLATE,
        )
        env = site_env(
            site_data, DJANGO_SETTINGS_MODULE=SETTINGS, **self.env(TEMPLATE, OWNER)
        )
        manage("migrate", "--noinput", env=env)
        self.sql(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public"
            f" TO {APP}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP}",
            dbname=TEMPLATE,
            user=OWNER,
        )
        return self

    def database(self, label="test"):
        """A new database, a copy of the migrated template: its name."""
        name = f"{re.sub(r'[^a-z0-9_]', '_', label.lower())[:40]}_{next(self._names)}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} OWNER {OWNER}")
        return Database(self, name)


@dataclass
class Database:
    server: Server
    name: str

    def env(self, user=APP, **changes):
        return self.server.env(self.name, user, **changes)

    def connections(self, user=APP):
        """Open server connections of ``user`` to this database, from
        pg_stat_activity (backends of clients, not the server's own)."""
        return self.server.value(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND usename = %s AND backend_type = 'client backend'",
            params=(self.name, user),
        )

    def sql(self, *statements, user=OWNER, params=None):
        return self.server.sql(*statements, dbname=self.name, user=user, params=params)

    def labels(self, prefix):
        """{id: label} of the snapshots whose label starts with ``prefix``."""
        rows = self.sql(
            "SELECT id, label FROM catalogue_snapshot WHERE label LIKE %s",
            params=(prefix + "%",),
        )
        return dict(rows)

    def settles(self, target, timeout, user=APP):
        """Poll the connection count until it is at most ``target``; return
        the last count."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.connections(user)
            if count <= target or time.monotonic() >= deadline:
                return count
            time.sleep(0.1)


PREFIX = "twistd-django-pg-"
OWNER_FILE = "harness.pid"


def stop_stale_servers(bindir):
    """Stop the servers that an earlier run left behind, killed before its
    teardown (a ``timeout``, a SIGKILL): each folder names the PID of the
    test run that made it."""
    for root in Path(shared_tempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((root / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if owner == os.getpid() or Path(f"/proc/{owner}").exists():
            continue
        server = Server(bindir, root)
        if os.geteuid() == 0:
            server.user = (UID, GID)
        server.stop()


def start_server(site_data):
    """A running server with the template, or raise Unavailable."""
    bindir = find_bindir()
    psycopg()
    stop_stale_servers(bindir)
    # Not under pytest's base temp: it is mode 0700, and the server's user
    # must enter its folder. mkdtemp makes it 0700 for us; start() gives it
    # to that user.
    root = tempfile.mkdtemp(prefix=PREFIX, dir=shared_tempdir())
    (Path(root) / OWNER_FILE).write_text(str(os.getpid()))
    server = Server(bindir, root)
    atexit.register(server.stop)  # Even if the session's teardown never runs.
    try:
        server.start()
        server.prepare_template(site_data)
    except BaseException:
        server.stop()
        raise
    return server


def serve(twistd, database, extra_args=(), env=None, start=True, **kwargs):
    """The production plugin (the step PACKAGE) on ``database``, as the app
    role, with ``backupsite.settings_postgres``."""
    from .steps import PACKAGE

    return twistd(
        PACKAGE,
        extra_args=[f"--settings={SETTINGS}", *extra_args],
        env={**database.env(), **(env or {})},
        start=start,
        **kwargs,
    )


def unix_connections(pid):
    """The connected Unix stream sockets that process ``pid`` holds: the
    client side of its database connections over the server's socket, when
    it has no other (a twistd daemon has none). Read from /proc: what the
    process holds now, where pg_stat_activity also lists, for an instant,
    a server process still exiting after its client closed."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # Closed meanwhile.
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        # Num RefCount Protocol Flags Type St Inode [Path]
        if fields[4] == "0001" and fields[5] == "03" and fields[6] in inodes:
            count += 1
    return count
