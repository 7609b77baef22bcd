"""Fixtures that start real twistd daemons and clean up after them."""

import os

import pytest

from support import stacks
from support.daemon import Twistd
from support.postgres import Unavailable, start_server
from support.procs import kill_hard, pids_below
from support.site import prepare_site, site_env
from support.steps import SITE
from support.unprivileged import make_readable
from support.unprivileged import unprivileged_site as make_unprivileged_site

DAEMONS = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def site_data(tmp_path_factory):
    """A data directory with a migrated database and collected static files."""
    return prepare_site(tmp_path_factory.mktemp("site-data"))


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_run(tmp_path_factory):
    """A safety net: kill any process still running inside the test dirs."""
    yield
    base = tmp_path_factory.getbasetemp()
    for pid in pids_below(base):
        kill_hard(pid)


@pytest.fixture
def twistd(request, tmp_path, site_data):
    """Start twistd: ``twistd(step)`` runs a copy of a step from steps.toml.

    Keyword arguments: ``daemonize`` (default True), ``extra_args`` (added
    after the step's arguments), ``env`` (more variables), ``start`` (False
    to only build the Twistd object), ``program`` (the command to run instead
    of ``twistd``), ``unprivileged`` (the ``unprivileged_site`` fixture: run
    from its copy of the site, its data and a working folder that a daemon
    that drops to nobody can read). Every daemon is killed at teardown.
    """
    started = request.node.stash.setdefault(DAEMONS, [])

    def start_step(
        step,
        daemonize=True,
        extra_args=(),
        env=None,
        start=True,
        data=None,
        program=None,
        unprivileged=None,
    ):
        site = SITE
        if unprivileged is None:
            workdir = tmp_path / f"run{len(started)}"
            workdir.mkdir()
        else:
            workdir = unprivileged.workdir(request.node.name)
            site, data = unprivileged.site, data or unprivileged.data
        folder = step.copy_to(workdir)
        if unprivileged is not None:
            make_readable(folder)
        daemon_env = site_env(data or site_data)
        first = unprivileged.python_path if unprivileged is not None else []
        daemon_env["PYTHONPATH"] = os.pathsep.join([*first, str(folder), str(site)])
        daemon_env.update(step.env)
        daemon_env.update(env or {})
        daemon = Twistd(
            workdir=folder,
            args=[*step.args, *extra_args],
            env=daemon_env,
            daemonize=daemonize,
        )
        if program:
            daemon.program = program
        started.append(daemon)
        return daemon.start() if start else daemon

    yield start_step
    for daemon in started:
        daemon.kill()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for daemon in item.stash.get(DAEMONS, []):
            report.sections.append((f"twistd log ({daemon.workdir})", daemon.log()))
            if daemon.running():  # It may hang: show where each thread is.
                state = stacks.report(daemon.pid)
                report.sections.append((f"state of twistd {daemon.pid}", state))
    return report


@pytest.fixture(scope="session")
def unprivileged_site():
    """For daemons that start as root and drop to nobody (``--uid``): a copy
    of the site, its data and room for working folders that nobody can read,
    wherever the checkout is (support/unprivileged.py). Skipped unless root."""
    if os.geteuid() != 0:
        pytest.skip("needs root: it prepares files for a daemon that drops to nobody")
    copy = make_unprivileged_site()
    yield copy
    copy.remove()


@pytest.fixture(scope="session")
def postgres_server(site_data):
    """A PostgreSQL server for the session (support/postgres.py): skipped if
    it cannot run here, and a failure in CI, which must run these tests."""
    try:
        server = start_server(site_data)
    except Unavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"{error}; CI must run the PostgreSQL tests (.ci/run).")
        pytest.skip(str(error))
    yield server
    server.stop()


@pytest.fixture
def postgres(request, postgres_server):
    """A database of the example site for this test, a copy of the migrated
    template: a ``support.postgres.Database``."""
    return postgres_server.database(request.node.name)
