"""docs/howto/run-behind-nginx.rst, step by step, in a scratch root.

The how-to builds on the systemd how-to: this test runs
examples/recipes/systemd/install.sh, then examples/recipes/nginx/install.sh,
in a scratch root (support/scratch_root.py), checks what each step did, and
then runs what they installed: the two instances of the template unit
``backupsite@.service``, as systemd would, and the distribution's nginx with
the installed ``nginx.conf`` and the self-signed certificate, on this run's
ports. A client that trusts that certificate gets the site through nginx,
from both backends.
"""

import http.client
import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess

import pytest

from support.http import free_port, port_open
from support.procs import wait_until
from support.scratch_root import ScratchRoot, UnitProcess

NGINX = shutil.which(
    "nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
)
NAME = "backup.example.com"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    scratch = ScratchRoot(tmp_path_factory.mktemp("howto-nginx"))
    scratch.run_script("examples/recipes/systemd/install.sh")
    first = len(scratch.calls())
    scratch.run_script("examples/recipes/nginx/install.sh")
    scratch.nginx_calls = scratch.calls()[first:]
    return scratch


def test_the_proxied_settings_go_beside_the_site(scratch):
    assert (scratch.path("/srv/backupsite/site") / "proxied_settings.py").is_file()


def test_two_backends_from_the_template_unit(scratch):
    units = scratch.path("/etc/systemd/system")
    assert (units / "backupsite@.service").is_file()
    assert scratch.nginx_calls[:4] == [
        f"systemd-analyze verify {units}/backupsite@8081.service "
        f"{units}/backupsite@8082.service",
        "systemctl daemon-reload",
        "systemctl disable --now backupsite.socket backupsite.service",
        "systemctl enable --now backupsite@8081.service backupsite@8082.service",
    ]


def test_a_self_signed_certificate_for_the_name(scratch):
    ssl_dir = scratch.path("/etc/ssl/backupsite")
    key, chain = ssl_dir / "key.pem", ssl_dir / "fullchain.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    assert chain.stat().st_mode & 0o777 == 0o644
    text = subprocess.run(
        ["openssl", "x509", "-in", str(chain), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"DNS:{NAME}" in text


def test_nginx_is_installed_configured_checked_and_reloaded(scratch):
    assert scratch.nginx_calls[-3:] == [
        "apt-get install -y nginx",
        "nginx -t",
        "systemctl reload nginx",
    ]
    conf = scratch.path("/etc/nginx/nginx.conf").read_text()
    assert "server 127.0.0.1:8081;" in conf and "server 127.0.0.1:8082;" in conf


def test_systemd_analyze_verify_the_template(scratch, tmp_path):
    names = ["backupsite@8081.service", "backupsite@8082.service"]
    assert scratch.verify_units(names, tmp_path) == ""


@pytest.fixture
def nginx_program():
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed: .ci/run should have installed it")
        pytest.skip("nginx is not installed: apt-get install nginx")
    return NGINX


def render(scratch, ports, prefix, http_port, https_port):
    text = scratch.path("/etc/nginx/nginx.conf").read_text()
    for production, here in {
        "user www-data;": f"user {pwd.getpwuid(os.geteuid()).pw_name};",
        "pid /run/nginx.pid;": f"pid {prefix}/nginx.pid;",
        "error_log /var/log/nginx/error.log;": "error_log stderr info;",
        "/var/log/nginx/backupsite.access.log": str(prefix / "access.log"),
        "server 127.0.0.1:8081;": f"server 127.0.0.1:{ports[0]};",
        "server 127.0.0.1:8082;": f"server 127.0.0.1:{ports[1]};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/ssl/backupsite": str(scratch.path("/etc/ssl/backupsite")),
        "http {": "http {\n"
        + "".join(
            f"    {kind}_temp_path {prefix}/{kind}_temp;\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
    }.items():
        assert production in text, production
        text = text.replace(production, here)
    return text


def request(port, path, context=None, headers=None):
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    else:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=10, context=context
        )
        conn.sock = context.wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=10),
            server_hostname=NAME,
        )
    try:
        conn.request("GET", path, headers={"Host": NAME, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def test_the_site_through_nginx_from_both_backends(scratch, tmp_path, nginx_program):
    ports = [free_port(), free_port()]
    backends = []
    nginx = None
    try:
        for n, port in enumerate(ports):
            workdir = tmp_path / f"backend{n}"
            workdir.mkdir()
            backends.append(
                UnitProcess(scratch, "backupsite@.service", workdir, instance=port)
            )
        for backend, port in zip(backends, ports, strict=True):
            up = wait_until(
                lambda b=backend, p=port: port_open(p) or not b.running(), 20
            )
            assert up and backend.running(), backend.stop()
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        http_port, https_port = free_port(), free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(render(scratch, ports, prefix, http_port, https_port))
        nginx = subprocess.Popen(
            [nginx_program, "-e", "stderr", "-p", prefix, "-c", conf]
            + ["-g", "daemon off;"],
            cwd=prefix,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert wait_until(
            lambda: (
                nginx.poll() is not None
                or (port_open(http_port) and port_open(https_port))
            ),
            10,
        )
        assert nginx.poll() is None, nginx.communicate()[0]
        context = ssl.create_default_context(
            cafile=str(scratch.path("/etc/ssl/backupsite/fullchain.pem"))
        )
        pids = set()
        for _ in range(10):
            status, _, body = request(https_port, "/status.json", context)
            assert status == 200, body
            pids.add(json.loads(body)["pid"])
        assert pids == {b.process.pid for b in backends}
        # Plain HTTP is redirected to HTTPS, even when the client claims it.
        status, headers, _ = request(
            http_port, "/", headers={"X-Forwarded-Proto": "https"}
        )
        assert status == 301 and headers["location"] == f"https://{NAME}/"
        # A forged X-Forwarded-For: the backends log the address nginx saw.
        request(https_port, "/_twistd/live", context, {"X-Forwarded-For": "1.2.3.4"})
        logs = [
            scratch.path(f"/var/log/backupsite/{port}.access.log") for port in ports
        ]
        assert wait_until(
            lambda: any(p.exists() and "/_twistd/live" in p.read_text() for p in logs),
            5,
        )
        lines = [
            line
            for p in logs
            if p.exists()
            for line in p.read_text().splitlines()
            if "/_twistd/live" in line
        ]
        assert [line.split(" ", 1)[0] for line in lines] == ["127.0.0.1"]
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.communicate(timeout=10)
        journals = [backend.stop() for backend in backends]
    for journal in journals:
        assert "Traceback" not in journal, journal
        assert "Server Shut Down." in journal
