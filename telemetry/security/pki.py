"""`telemetry pki`: a fleet CA and one certificate per party, for development and tests.

`init(folder)` writes `ca.pem` and `ca.key`; `issue(folder, name, role)` writes
`<name>.pem` and `<name>.key`, signed by that CA, with the common name `name` (what Zenoh's
access control matches a vehicle by over mutual TLS) and the role as organizational unit.
Every certificate is valid for client and server authentication and for the names
`localhost` and 127.0.0.1, so one file serves a router's listener and a client's
connection on loopback. Keys are ECDSA P-256, written unencrypted with mode 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from telemetry.errors import ConfigError
from telemetry.keys import validate_name

__all__ = ["Issued", "Role", "init", "issue"]

CA_CERT, CA_KEY = "ca.pem", "ca.key"
_VALID = datetime.timedelta(days=365)


class Role(StrEnum):
    VEHICLE = "vehicle"
    ROUTER = "router"
    AGGREGATOR = "aggregator"
    DASHBOARD = "dashboard"
    RECORDER = "recorder"


@dataclass(frozen=True)
class Issued:
    certificate: Path
    key: Path


def init(folder: Path, organization: str = "telemetry fleet") -> Issued:
    """A new fleet CA in `folder`; refuses to overwrite one (that would orphan every issued cert)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / CA_CERT, folder / CA_KEY
    if cert_path.exists() or key_path.exists():
        raise ConfigError(f"{folder}: a CA is already there ({CA_CERT}); remove it first to start a new one")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{organization} CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + 10 * _VALID)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return _write(folder, "ca", certificate, key)


def issue(folder: Path, name: str, role: Role | str) -> Issued:
    """A certificate and key for party `name` (a vehicle's name for a vehicle), signed by the CA."""
    try:
        role = Role(role)
    except ValueError:
        raise ConfigError(f"--role: must be one of {', '.join(r.value for r in Role)}, got {role!r}") from None
    validate_name(name, role.value)
    ca_certificate, ca_key = _load_ca(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role.value),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca_certificate.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALID)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.DNSName(name),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return _write(folder, name, certificate, key)


def _load_ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = folder / CA_CERT, folder / CA_KEY
    if not cert_path.is_file() or not key_path.is_file():
        raise ConfigError(f"{folder}: no fleet CA here ({CA_CERT}, {CA_KEY}); run `telemetry pki init {folder}` first")
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{key_path}: not an EC private key")
    return certificate, key


def _write(folder: Path, stem: str, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return Issued(cert_path, key_path)
