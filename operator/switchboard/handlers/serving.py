"""The admission webhook's HTTPS server: a given certificate (cert-manager, a Helm-made Secret) or
a self-signed one made at start-up for the address the API server calls."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

import kopf
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from switchboard.handlers.runtime import WebhookOptions

CERT_DAYS = 365


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def self_signed(hosts: list[str]) -> tuple[bytes, bytes]:
    """A self-signed serving certificate (PEM) for `hosts` (names or addresses) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName([_san(h) for h in dict.fromkeys(hosts)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@dataclass(frozen=True)
class WebhookEndpoint:
    """kopf's server, the base URL the API server calls and the CA bundle it verifies with."""

    server: kopf.WebhookServer
    url: str
    ca_bundle: bytes


def webhook_endpoint(options: WebhookOptions) -> WebhookEndpoint:
    """kopf's server with our certificate, on a port known in advance (the configuration names
    it before the server listens)."""
    host = options.host or options.listen
    port = options.port or _free_port(options.listen)
    cert_file, key_file = options.cert_file, options.key_file
    if cert_file is None or key_file is None:
        folder = Path(tempfile.mkdtemp(prefix="switchboard-webhook-"))
        cert, key = self_signed([host, options.listen])
        cert_file, key_file = folder / "tls.crt", folder / "tls.key"
        key_file.touch(mode=0o600)
        key_file.write_bytes(key)
        cert_file.write_bytes(cert)
    ca_file = options.ca_file or cert_file
    server = kopf.WebhookServer(
        addr=options.listen,
        port=port,
        host=host,
        certfile=cert_file,
        pkeyfile=key_file,
        cafile=ca_file,
    )
    netloc = f"[{host}]" if ":" in host else host
    return WebhookEndpoint(server, f"https://{netloc}:{port}", ca_file.read_bytes())


def _free_port(address: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])
