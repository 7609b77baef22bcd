"""What Twisted's default TLS policy accepts, as docs/howto/serve-over-tls.rst says.

An ``ssl:`` endpoint builds Twisted's ``CertificateOptions`` with its
defaults (twisted/internet/_sslverify.py): TLS 1.2 and 1.3, the server's
cipher order, and ``defaultCiphers``, which lets TLS 1.2 clients have CBC
suites and, with an RSA certificate, suites with RSA key exchange (no
forward secrecy). Each test makes a client that offers only what it checks.
"""

import datetime
import importlib.util
import socket
import ssl

import pytest

from support.tls import start_tls, throwaway_ca

MISSING = [
    name
    for name in ("cryptography", "OpenSSL", "service_identity")
    if importlib.util.find_spec(name) is None
]


@pytest.fixture(scope="module")
def ec_certs(tmp_path_factory):
    """The recipe's throwaway CA: an ECDSA root, intermediate and server."""
    assert not MISSING, f"twisted[tls] is missing here: {', '.join(MISSING)}"
    directory = tmp_path_factory.mktemp("ec-certs")
    return throwaway_ca(directory)


@pytest.fixture(scope="module")
def rsa_certs(tmp_path_factory):
    """A self-signed RSA certificate for localhost."""
    assert not MISSING, f"twisted[tls] is missing here: {', '.join(MISSING)}"
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    directory = tmp_path_factory.mktemp("rsa-certs")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return directory


def start(twistd, certs):
    return start_tls(twistd, certs, chain=(certs / "chain.pem").exists())


def handshake(port, certs, ciphers=None, version=ssl.TLSVersion.TLSv1_2):
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.minimum_version = context.maximum_version = version
    if ciphers:
        context.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.version(), tls.cipher()[0]


def test_tls_1_3_with_an_aead_suite(twistd, ec_certs):
    daemon = start(twistd, ec_certs)
    version, cipher = handshake(daemon.port, ec_certs, version=ssl.TLSVersion.TLSv1_3)
    assert version == "TLSv1.3"
    assert cipher in (
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
    )


def test_tls_1_2_accepts_a_cbc_suite_and_prefers_its_own_order(twistd, ec_certs):
    daemon = start(twistd, ec_certs)
    # A client that offers only a CBC suite (no AEAD) is served.
    assert handshake(daemon.port, ec_certs, "ECDHE-ECDSA-AES128-SHA") == (
        "TLSv1.2",
        "ECDHE-ECDSA-AES128-SHA",
    )
    # A client that prefers CBC gets AES-GCM: the server's order wins.
    _, cipher = handshake(
        daemon.port, ec_certs, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384"
    )
    assert cipher == "ECDHE-ECDSA-AES256-GCM-SHA384"


def test_tls_1_2_with_an_rsa_certificate_accepts_rsa_key_exchange(twistd, rsa_certs):
    daemon = start(twistd, rsa_certs)
    # No forward secrecy: the session key is sent encrypted with the
    # certificate's key, and whoever gets the key later can read the traffic.
    assert handshake(daemon.port, rsa_certs, "AES128-GCM-SHA256") == (
        "TLSv1.2",
        "AES128-GCM-SHA256",
    )
    # Offered alongside, an ECDHE suite wins.
    _, cipher = handshake(
        daemon.port, rsa_certs, "AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
    )
    assert cipher.startswith("ECDHE-RSA-")
    # DHE needs Diffie-Hellman parameters, which the endpoint has none of.
    with pytest.raises(ssl.SSLError):
        handshake(daemon.port, rsa_certs, "DHE-RSA-AES128-GCM-SHA256")
