"""The example Django site, for real: settings, setup, and every view.

Django's settings are global to a process, and the other tests configure no
Django in the pytest process, so each check runs in a fresh Python: a script
run with ``python -c``, or ``manage.py``, against a temporary data directory.
"""

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from support.site import manage, prepare_site, run_manage, run_script, site_env
from support.steps import SITE

#: Seconds for each Python that runs the site.
TIMEOUT = 60
INSECURE_KEY = "DJANGO_SECRET_KEY is not set: using an insecure development key"


def env_for(data_dir, **changes):
    """The site's environment, with the site on PYTHONPATH for the scripts."""
    return site_env(data_dir, PYTHONPATH=SITE, **changes)


def files_below(directory):
    return sorted(str(p.relative_to(directory)) for p in Path(directory).rglob("*"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A data directory set up as the tutorial does: migrate, collectstatic."""
    data = tmp_path_factory.mktemp("site") / "var"  # Not created yet.
    return prepare_site(data, env=env_for(data), cwd=data.parent, timeout=TIMEOUT)


# Settings


def test_importing_the_settings_and_the_wsgi_module_creates_nothing(tmp_path):
    data = tmp_path / "var"
    site_before = files_below(SITE)
    settings = run_script(
        """
        import json
        import backupsite.wsgi
        from django.conf import settings as s
        from django.db import connection
        print(json.dumps({
            "DATA_DIR": str(s.DATA_DIR),
            "NAME": str(s.DATABASES["default"]["NAME"]),
            "OPTIONS": s.DATABASES["default"]["OPTIONS"],
            "STATIC_ROOT": str(s.STATIC_ROOT),
            "MEDIA_ROOT": str(s.MEDIA_ROOT),
            "STATIC_URL": s.STATIC_URL,
            "MEDIA_URL": s.MEDIA_URL,
            "DEBUG": s.DEBUG,
            "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
            "USE_TZ": s.USE_TZ,
            "TIME_ZONE": s.TIME_ZONE,
            "staticfiles": s.STORAGES["staticfiles"]["BACKEND"],
            "connected": connection.connection is not None,
        }))
        """,
        env=env_for(data),
        cwd=tmp_path,
        timeout=TIMEOUT,
    )
    assert not data.exists()
    assert list(tmp_path.iterdir()) == []
    assert files_below(SITE) == site_before
    assert settings == {
        "DATA_DIR": str(data),
        "NAME": str(data / "db.sqlite3"),
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "STATIC_ROOT": str(data / "static"),
        "MEDIA_ROOT": str(data / "media"),
        "STATIC_URL": "/static/",
        "MEDIA_URL": "/media/",
        "DEBUG": False,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "[::1]"],
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "staticfiles": (
            "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        ),
        "connected": False,
    }


def test_the_default_data_directory_is_var_beside_manage_py(tmp_path):
    data_dir = run_script(
        "import json, backupsite.settings as s; print(json.dumps(str(s.DATA_DIR)))",
        env=env_for(tmp_path, BACKUPSITE_DATA_DIR=None),
        cwd=tmp_path,
        timeout=TIMEOUT,
    )
    assert data_dir == str(SITE.resolve() / "var")


def test_debug_and_allowed_hosts_come_from_the_environment(tmp_path):
    values = run_script(
        """
        import importlib, json, os
        import backupsite.settings as s

        def read(**env):
            os.environ.update(env)
            importlib.reload(s)
            return [s.DEBUG, s.ALLOWED_HOSTS]

        print(json.dumps({
            word: read(DJANGO_DEBUG=word, DJANGO_ALLOWED_HOSTS=" a.example, [::1] ,")
            for word in ["1", "true", "Yes", "0", "no", "", "on"]
        }))
        """,
        env=env_for(tmp_path),
        cwd=tmp_path,
        timeout=TIMEOUT,
    )
    hosts = ["a.example", "[::1]"]
    assert values == {
        "1": [True, hosts],
        "true": [True, hosts],
        "Yes": [True, hosts],
        "0": [False, hosts],
        "no": [False, hosts],
        "": [False, hosts],
        "on": [False, hosts],
    }


def test_the_secret_key_comes_from_the_variable_or_else_the_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("  key-from-the-file\n")
    code = "import json, backupsite.settings as s; print(json.dumps(s.SECRET_KEY))"
    env = env_for(tmp_path, DJANGO_SECRET_KEY=None, DJANGO_SECRET_KEY_FILE=key_file)
    key = run_script(code, env=env, cwd=tmp_path, timeout=TIMEOUT)
    assert key == "key-from-the-file"
    env["DJANGO_SECRET_KEY"] = "key-from-the-variable"
    key = run_script(code, env=env, cwd=tmp_path, timeout=TIMEOUT)
    assert key == "key-from-the-variable"


UNUSABLE_KEY_FILES = {
    "missing": (None, "which cannot be read: No such file or directory."),
    "empty": (" \n", "which is empty."),
}


@pytest.mark.parametrize(
    "content,problem", UNUSABLE_KEY_FILES.values(), ids=list(UNUSABLE_KEY_FILES)
)
def test_an_unusable_secret_key_file_is_a_clear_error(tmp_path, content, problem):
    key_file = tmp_path / "secret_key"
    if content is not None:
        key_file.write_text(content)
    env = env_for(tmp_path, DJANGO_SECRET_KEY=None, DJANGO_SECRET_KEY_FILE=key_file)
    result = run_manage("check", env=env, cwd=tmp_path, timeout=TIMEOUT)
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: "
        f"DJANGO_SECRET_KEY_FILE names '{key_file}', {problem}"
    )
    assert INSECURE_KEY not in result.stderr


def test_without_a_secret_key_the_site_runs_and_warns(tmp_path):
    env = env_for(tmp_path, DJANGO_SECRET_KEY=None)
    result = run_manage("check", env=env, cwd=tmp_path, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"WARNING: {INSECURE_KEY}") for line in lines)
    assert f"RuntimeWarning: {INSECURE_KEY}" in result.stderr


def test_without_a_secret_key_the_first_request_warns_again(data_dir, tmp_path):
    """twistd starts its log after loading the site: the first request warns."""
    logged = run_script(
        """
        import io, json, sys, warnings
        import django
        django.setup()
        from django.test import Client

        sys.stderr = io.StringIO()  # As twistd does once its log is open.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                Client(HTTP_HOST="127.0.0.1").get("/plain/")
        print(json.dumps({
            "stderr": sys.stderr.getvalue(),
            "warnings": [
                [w.category.__name__, str(w.message)] for w in caught
            ],
        }))
        """,
        env=env_for(
            data_dir,
            DJANGO_SECRET_KEY=None,
            DJANGO_SETTINGS_MODULE="backupsite.settings",
        ),
        cwd=tmp_path,
        timeout=TIMEOUT,
    )
    assert logged["stderr"].startswith(f"WARNING: {INSECURE_KEY}")
    assert logged["stderr"].count("WARNING: ") == 1
    assert len(logged["warnings"]) == 1
    category, message = logged["warnings"][0]
    assert category == "RuntimeWarning"
    assert message.startswith(INSECURE_KEY)


# Setup


def test_migrate_and_collectstatic_fill_the_data_directory(data_dir):
    assert (data_dir / "db.sqlite3").is_file()
    assert (data_dir / "static" / "staticfiles.json").is_file()
    assert (data_dir / "static" / "admin" / "css" / "base.css").is_file()
    assert list((data_dir / "static" / "catalogue").glob("style.*.css"))
    with sqlite3.connect(data_dir / "db.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_manage_py_check_passes_and_the_migrations_are_complete(data_dir):
    env = env_for(data_dir)
    output = manage("check", env=env, cwd=data_dir, timeout=TIMEOUT)
    assert "System check identified no issues" in output
    manage(
        "makemigrations", "--check", "--dry-run", env=env, cwd=data_dir, timeout=TIMEOUT
    )


# Views, through Django's test client, with DEBUG off

CLIENT_SCRIPT = """
import io, json, re, sys
import django
django.setup()
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.views.static import serve
from catalogue.models import Host, Snapshot

client = Client(HTTP_HOST="127.0.0.1:8080", raise_request_exception=False)
results = {"DEBUG": settings.DEBUG}


def record(name, response):
    if response.streaming:
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    results[name] = {
        "status": response.status_code,
        "type": response.get("Content-Type"),
        "length": response.get("Content-Length"),
        "body": body.decode(),
    }
    return results[name]


home = record("home", client.get("/"))
css_url = re.search(r'<link rel="stylesheet" href="([^"]+)"', home["body"])[1]
results["css_url"] = css_url
# With DEBUG off Django serves no static files: the server serves STATIC_ROOT.
css_request = RequestFactory().get(css_url)
css_path = css_url.removeprefix(settings.STATIC_URL)
record("css", serve(css_request, css_path, document_root=settings.STATIC_ROOT))

record("status", client.get("/status.json"))
record("slow", client.get("/slow/?seconds=0.1"))
record("slow_default_clamped", client.get("/slow/?seconds=-5"))
record("slow_bad", client.get("/slow/?seconds=x"))
record("slow_nan", client.get("/slow/?seconds=nan"))
record("stream", client.get("/stream/"))
record("stream_3", client.get("/stream/?chunks=3&delay=0"))
record("stream_bad", client.get("/stream/?chunks=1.5"))
record("plain", client.get("/plain/"))
record("admin", client.get("/admin/"))
record("admin_login", client.get("/admin/login/"))

report = {"host": "db1", "label": "/var/lib/postgresql", "size_bytes": "123456"}
record("report", client.post("/snapshots/report/", {**report, "status": "ok"}))
record("report_again", client.post("/snapshots/report/", {**report, "status": "ok"}))
record("report_bad", client.post("/snapshots/report/", {**report, "status": "meh"}))
record("report_get", client.get("/snapshots/report/"))
results["rows"] = [
    [s.host.name, s.label, s.size_bytes, s.status, s.finished_at is not None]
    for s in Snapshot.objects.select_related("host")
]
results["hosts"] = list(Host.objects.values_list("name", flat=True))
record("home_after", client.get("/"))

for host in ["localhost", "[::1]:8080", "evil.example"]:
    record(f"host {host}", Client(HTTP_HOST=host).get("/plain/"))

sys.stderr = io.StringIO()  # As twistd does, after Django has set up logging.
record("boom", client.get("/boom/"))
results["boom_log"] = sys.stderr.getvalue()
results["transaction_mode"] = connection.transaction_mode
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def responses(data_dir):
    env = env_for(data_dir, DJANGO_SETTINGS_MODULE="backupsite.settings")
    return run_script(CLIENT_SCRIPT, env=env, cwd=data_dir, timeout=TIMEOUT)


def test_debug_is_off(responses):
    assert responses["DEBUG"] is False


def test_the_home_page_lists_snapshots_with_a_hashed_stylesheet(responses):
    home = responses["home"]
    assert home["status"] == 200
    assert "Backup catalogue" in re.search(r"<title>(.*)</title>", home["body"])[1]
    assert "No snapshots yet." in home["body"]
    assert re.fullmatch(
        r"/static/catalogue/style\.[0-9a-f]{12}\.css", responses["css_url"]
    )
    after = responses["home_after"]
    assert after["status"] == 200
    assert "/var/lib/postgresql" in after["body"]
    assert "No snapshots yet." not in after["body"]


def test_the_stylesheet_is_collected_under_its_hashed_name(responses, data_dir):
    css = responses["css"]
    assert css["status"] == 200
    assert css["type"].startswith("text/css")
    source = SITE / "catalogue" / "static" / "catalogue" / "style.css"
    assert css["body"] == source.read_text()
    hashed = data_dir / "static" / responses["css_url"].removeprefix("/static/")
    assert hashed.read_text() == source.read_text()


def test_status_json_outside_a_twisted_pool(responses):
    status = responses["status"]
    assert status["status"] == 200
    assert status["type"] == "application/json"
    body = json.loads(status["body"])
    assert list(body) == ["pid", "thread", "threads", "pool"]
    assert isinstance(body["pid"], int)
    assert body["thread"] == "MainThread"
    assert "MainThread" in body["threads"]
    assert body["threads"] == sorted(body["threads"])
    assert body["pool"] is None


def test_slow(responses):
    assert responses["slow"]["status"] == 200
    assert responses["slow"]["type"] == "text/plain"
    assert responses["slow"]["body"] == "slept 0.1 s\n"
    assert responses["slow_default_clamped"]["body"] == "slept 0.0 s\n"
    for bad in ("slow_bad", "slow_nan"):
        assert responses[bad]["status"] == 400
        assert responses[bad]["body"].startswith("seconds must be a number, not ")


def test_stream(responses):
    stream = responses["stream"]
    assert stream["status"] == 200
    assert stream["type"] == "text/plain"
    assert stream["length"] is None
    assert stream["body"] == "".join(f"chunk {i}\n" for i in range(5)) + "done\n"
    assert responses["stream_3"]["body"] == "chunk 0\nchunk 1\nchunk 2\ndone\n"
    assert responses["stream_bad"]["status"] == 400
    assert "chunks must be a whole number" in responses["stream_bad"]["body"]


def test_plain(responses):
    assert responses["plain"]["status"] == 200
    assert responses["plain"]["type"] == "text/plain"
    assert responses["plain"]["body"] == "ok\n"


def test_admin(responses):
    assert responses["admin"]["status"] == 302
    assert responses["admin_login"]["status"] == 200
    assert "Django administration" in responses["admin_login"]["body"]


def test_a_snapshot_report_writes_a_row(responses):
    first, second = responses["report"], responses["report_again"]
    assert first["status"] == second["status"] == 201
    assert json.loads(second["body"])["id"] == json.loads(first["body"])["id"] + 1
    row = ["db1", "/var/lib/postgresql", 123456, "ok", True]
    assert responses["rows"] == [row, row]
    assert responses["hosts"] == ["db1"]


def test_a_bad_snapshot_report_is_a_400_that_says_why(responses):
    bad = responses["report_bad"]
    assert bad["status"] == 400
    assert bad["body"].startswith("bad snapshot report: status: ")
    assert "meh" in bad["body"]
    assert responses["report_get"]["status"] == 405


def test_allowed_hosts(responses):
    assert responses["host localhost"]["status"] == 200
    assert responses["host [::1]:8080"]["status"] == 200
    assert responses["host evil.example"]["status"] == 400


def test_a_server_error_logs_its_traceback_to_the_current_stderr(responses):
    assert responses["boom"]["status"] == 500
    log = responses["boom_log"]
    assert "ERROR django.request: Internal Server Error: /boom/" in log
    assert "Traceback (most recent call last):" in log
    assert "RuntimeError: boom: deliberate failure for the logging tests" in log


def test_sqlite_takes_the_write_lock_when_a_transaction_begins(responses):
    assert responses["transaction_mode"] == "IMMEDIATE"


def test_concurrent_reports_all_succeed(data_dir):
    statuses = run_script(
        """
        import json, threading
        import django
        django.setup()
        from django.db import connection
        from django.test import Client

        statuses = []

        def report(n):
            client = Client(HTTP_HOST="127.0.0.1")
            for i in range(10):
                data = {"host": f"h{n}", "label": f"/l{i}", "size_bytes": i,
                        "status": "running"}
                statuses.append(client.post("/snapshots/report/", data).status_code)
            connection.close()

        threads = [threading.Thread(target=report, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps(statuses))
        """,
        env=env_for(data_dir, DJANGO_SETTINGS_MODULE="backupsite.settings"),
        cwd=data_dir,
        timeout=TIMEOUT,
    )
    assert statuses == [201] * 80


# /status.json in a Twisted thread pool, as twistd runs it

POOL_SCRIPT = """
import json, os, threading
import django
django.setup()
from django.test import Client
from twisted.python.threadpool import ThreadPool
from catalogue.views import twisted_pool_state

other = ThreadPool(2, 2, name="wsgi-other")  # Its threads are not ours.
other.start()
pool = ThreadPool(3, 3, name="wsgi")
pool.start()
answered = threading.Event()
results = {}


def get_status():
    response = Client(HTTP_HOST="127.0.0.1").get("/status.json")
    results["status"] = json.loads(response.content)


pool.callInThreadWithCallback(lambda ok, result: answered.set(), get_status)
answered.wait(30)

# After a fork the child has the pool object but none of its threads.
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(write, json.dumps(twisted_pool_state("PoolThread-wsgi-0")).encode())
    os._exit(0)
os.close(write)
os.waitpid(pid, 0)
results["after_fork"] = json.loads(os.read(read, 10000))
pool.stop()
other.stop()
print(json.dumps(results))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_status_json_reports_the_twisted_pool_that_runs_it(data_dir):
    pytest.importorskip("twisted")
    env = env_for(data_dir, DJANGO_SETTINGS_MODULE="backupsite.settings")
    results = run_script(POOL_SCRIPT, env=env, cwd=data_dir, timeout=TIMEOUT)
    status = results["status"]
    assert status["thread"].startswith("PoolThread-wsgi-")
    assert status["thread"] in status["threads"]
    assert status["pool"] == {
        "name": "wsgi",
        "min": 3,
        "max": 3,
        "workers": 3,
        "busy": 1,
        "idle": 2,
        "queued": 0,
        "live_threads": 3,
    }
    after_fork = results["after_fork"]
    assert after_fork["workers"] == 3
    assert after_fork["live_threads"] == 0
