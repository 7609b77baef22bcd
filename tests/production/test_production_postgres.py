"""The production plugin on PostgreSQL, as a role that may not CREATE.

The server is the distribution's, started by the harness for the session
(support/postgres.py: initdb and pg_ctl in a temporary folder, a Unix socket
only). The migrations were applied by the owner role; the daemon connects
as the app role, which owns no schema and has no CREATE on ``public``, as a
least-privilege production role would. Each test has its own database.
"""

import http.client
import json
import time
import urllib.parse

from support.http import get
from support.postgres import APP, OWNER, SETTINGS, serve
from support.procs import wait_until
from support.reliability import post_report
from support.steps import STEPS


def created_id(port, label):
    body = urllib.parse.urlencode(
        {"host": "pg", "label": label, "size_bytes": "1", "status": "ok"}
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/snapshots/report/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        data = response.read()
        assert response.status == 201, data
        return json.loads(data)["id"]
    finally:
        conn.close()


def test_the_app_role_owns_nothing_and_cannot_create(postgres):
    owned = postgres.sql(
        "SELECT count(*) FROM pg_namespace n JOIN pg_roles r ON n.nspowner = r.oid"
        " WHERE r.rolname = %s",
        params=(APP,),
    )
    assert owned == [(0,)]
    privileges = postgres.sql(
        "SELECT has_schema_privilege(%s, 'public', 'CREATE'),"
        " has_schema_privilege(%s, 'public', 'USAGE'),"
        " has_schema_privilege(%s, 'public', 'CREATE'),"
        " (SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles"
        "  WHERE rolname = %s)",
        params=(APP, APP, OWNER, APP),
    )
    assert privileges == [(False, True, True, False)]


def test_the_daemon_serves_as_a_role_without_create(twistd, postgres):
    daemon = serve(twistd, postgres)
    label = f"pg-serves-{time.monotonic_ns()}"
    snapshot = created_id(daemon.port, label)
    assert postgres.labels(label) == {snapshot: label}
    page = get(daemon.port, "/")
    assert page.status == 200
    assert label in page.text
    assert "ERROR" not in daemon.log()
    daemon.stop()


def test_the_write_check_fails_clearly_without_create(twistd, postgres):
    daemon = serve(
        twistd, postgres, extra_args=["--db-write-check", "yes"], start=False
    )
    status = daemon.launch()
    output = daemon.output.decode()
    assert status == 1, output
    expected = (
        f"twistd django: database 'default' ({postgres.name}):"
        " permission denied for schema public"
    )
    assert expected in output
    assert "Traceback" not in output
    assert not daemon.pidfile.exists()
    # The check left nothing behind: no table, no open connection.
    assert postgres.sql(
        "SELECT count(*) FROM pg_tables WHERE tablename = 'twistd_django_write_test'"
    ) == [(0,)]
    assert postgres.connections() == 0


def test_the_write_check_passes_for_the_owner(twistd, postgres):
    """The same check as the owner, who may CREATE: the daemon starts, and the
    check's table was rolled back."""
    daemon = serve(
        twistd,
        postgres,
        extra_args=["--db-write-check", "yes"],
        env={"BACKUPSITE_DB_USER": OWNER},
    )
    assert get(daemon.port, "/").status == 200
    assert postgres.sql(
        "SELECT count(*) FROM pg_tables WHERE tablename = 'twistd_django_write_test'"
    ) == [(0,)]


def fail_mid_stream(daemon, postgres):
    """GET a stream that queries for each chunk (?db=1) and raises after 3;
    return once the failure is logged."""
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
    conn.request("GET", "/stream/?chunks=5&delay=0.5&fail_after=3&db=1")
    response = conn.getresponse()
    assert response.status == 200
    first = response.readline()
    assert first.startswith(b"chunk 0 ("), first
    # While it streams, the request holds one connection (the check is live).
    assert wait_until(lambda: postgres.connections() == 1, 10)
    try:
        rest = response.read()
    except http.client.IncompleteRead as error:  # Chunked, cut off: expected.
        rest = error.partial
    conn.close()
    assert b"done" not in rest
    assert wait_until(
        lambda: "stream: deliberate failure after 3 chunks" in daemon.log(), 10
    )


def test_a_view_that_fails_mid_stream_closes_its_connection(twistd, postgres):
    """The stream holds a connection while it runs; when it raises, the
    package calls the response's close() all the same, Django's
    request_finished fires, and the connection is closed: none is left to
    the idle thread."""
    daemon = serve(twistd, postgres)
    fail_mid_stream(daemon, postgres)
    assert wait_until(lambda: postgres.connections() == 0, 10), (
        f"{postgres.connections()} connection(s) left open after the failed stream"
    )
    # And the daemon goes on serving, from the same database.
    assert post_report(daemon.port, "pg-after-stream") == 201


def test_twisted_wsgi_leaves_the_connection_of_a_failed_stream_open(twistd, postgres):
    """The control: step 4 serves with Twisted's own WSGI response, which
    skips close() when the iteration raises. request_finished never fires,
    and the connection stays with the idle thread (until that thread serves
    another request). Waiting asserts that nothing happens, so load cannot
    fail it."""
    step = next(s for s in STEPS if s.id == "tap-04-graceful-shutdown")
    daemon = twistd(step, extra_args=[f"--settings={SETTINGS}"], env=postgres.env())
    fail_mid_stream(daemon, postgres)
    assert not wait_until(lambda: postgres.connections() == 0, 3)
    assert postgres.connections() == 1
