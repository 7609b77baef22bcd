"""Make a throwaway CA and a certificate for trying TLS: never for production.

    python throwaway_ca.py DIRECTORY [NAME ...]

Writes, in DIRECTORY: ``ca.pem`` (a root CA, what clients trust),
``chain.pem`` (an intermediate CA, signed by the root), ``cert.pem`` (the
server's certificate, signed by the intermediate, for the NAMEs: default
``localhost`` and ``127.0.0.1``) and ``key.pem`` (its private key, mode 0600).
A real CA sends the same three things: the certificate, the chain, and
the root that browsers already have.
"""

import datetime
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, key, issuer, issuer_key, days, ca, names=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer is not None else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.BasicConstraints(
                ca=ca, path_length=(1 if issuer is None else 0) if ca else None
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        alt_names = []
        for name in names:
            try:
                alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt_names.append(x509.DNSName(name))
        builder = builder.add_extension(
            x509.SubjectAlternativeName(alt_names), critical=False
        ).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make(directory, names=("localhost", "127.0.0.1")):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate("Throwaway Root CA", root_key, None, root_key, 30, ca=True)
    middle_key = ec.generate_private_key(ec.SECP256R1())
    middle = _certificate(
        "Throwaway Intermediate CA", middle_key, root, root_key, 30, ca=True
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(names[0], key, middle, middle_key, 7, ca=False, names=names)

    def pem(certificate):
        return certificate.public_bytes(serialization.Encoding.PEM)

    (directory / "ca.pem").write_bytes(pem(root))
    (directory / "chain.pem").write_bytes(pem(middle))
    (directory / "cert.pem").write_bytes(pem(cert))
    key_path = directory / "key.pem"
    key_path.touch(mode=0o600)
    os.chmod(key_path, 0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    make(sys.argv[1], tuple(sys.argv[2:]) or ("localhost", "127.0.0.1"))
