"""The TLS recipe: an ssl: endpoint with a full chain, and HTTP/2 via ALPN.

examples/recipes/tls, documented in docs/howto/serve-over-tls.rst. The test
makes its own throwaway CA (root, intermediate, server certificate), and
talks to the daemon with clients that verify the certificate against the
root alone, so the server must send the intermediate.
"""

import http.client
import importlib.util
import json
import shutil
import socket
import ssl
import subprocess
import warnings

import pytest

from support.tls import start_tls, throwaway_ca

MISSING = [
    name
    for name in ("cryptography", "OpenSSL", "service_identity", "h2")
    if importlib.util.find_spec(name) is None
]
NEEDS = (
    "the TLS recipe needs twisted[tls,http2] (cryptography, pyOpenSSL,"
    f" service-identity, h2); missing here: {', '.join(MISSING)}"
)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    assert not MISSING, NEEDS
    directory = tmp_path_factory.mktemp("certs")
    return throwaway_ca(directory)


def client_context(certs):
    """What a browser does: trust the root only, check the name."""
    return ssl.create_default_context(cafile=str(certs / "ca.pem"))


def handshake(port, context, host="localhost", alpn=None):
    if alpn:
        context.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.version(), tls.selected_alpn_protocol(), tls.cipher()


def https_get(port, certs, path, host="localhost"):
    conn = http.client.HTTPSConnection(
        host, port, timeout=5, context=client_context(certs)
    )
    try:
        # Connect to 127.0.0.1 whatever the name: no DNS for the test.
        conn.sock = client_context(certs).wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=5),
            server_hostname=host,
        )
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_verifying_client_gets_the_page_over_tls(twistd, certs):
    daemon = start_tls(twistd, certs)
    version, _, cipher = handshake(daemon.port, client_context(certs))
    assert version in ("TLSv1.2", "TLSv1.3")
    assert "GCM" in cipher[0] or "CHACHA20" in cipher[0], cipher
    for host in ("localhost", "127.0.0.1"):  # Both are in the certificate.
        status, body = https_get(daemon.port, certs, "/status.json", host=host)
        assert status == 200
        assert json.loads(body)["pid"] == daemon.pid
    daemon.stop()


def test_the_chain_is_needed_and_the_name_is_checked(twistd, certs):
    daemon = start_tls(twistd, certs, chain=False)
    with pytest.raises(ssl.SSLCertVerificationError, match="local issuer"):
        handshake(daemon.port, client_context(certs))
    daemon.stop()
    daemon = start_tls(twistd, certs)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        handshake(daemon.port, client_context(certs), host="example.org")


def test_old_tls_versions_are_refused_by_the_server(twistd, certs):
    daemon = start_tls(twistd, certs)
    context = client_context(certs)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # Let the client offer them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # On purpose.
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError) as refused:
        handshake(daemon.port, context)
    # The alert comes from the server, not from the client's own policy.
    assert "ALERT_PROTOCOL_VERSION" in str(refused.value).upper()


@pytest.mark.parametrize("http2", ["yes", "no"])
def test_http2_through_alpn_and_how_to_turn_it_off(twistd, certs, http2):
    daemon = start_tls(twistd, certs, f"--http2={http2}")
    expected = "h2" if http2 == "yes" else "http/1.1"
    _, protocol, _ = handshake(
        daemon.port, client_context(certs), alpn=["h2", "http/1.1"]
    )
    assert protocol == expected
    curl = shutil.which("curl")
    assert curl, "curl is needed (see the README)"
    result = subprocess.run(
        [
            curl,
            "-sS",
            "--http2",
            "--cacert",
            str(certs / "ca.pem"),
            "--resolve",
            f"localhost:{daemon.port}:127.0.0.1",
            "-w",
            "\n%{http_code} %{http_version}",
            f"https://localhost:{daemon.port}/status.json",
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0, result.stderr + daemon.log()
    body, _, status = result.stdout.rpartition("\n")
    assert status == ("200 2" if http2 == "yes" else "200 1.1")
    assert json.loads(body)["pid"] == daemon.pid
    daemon.stop()
