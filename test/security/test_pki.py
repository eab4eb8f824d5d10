"""`telemetry pki`: the development CA and certificates, checked as files and on a real
Zenoh router with mutual TLS on loopback (a client without a certificate, or with one from
another CA, cannot connect; one from the fleet CA can)."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from support.processes import ProcessGroup, free_port

from telemetry.errors import ConfigError, KeyExprError
from telemetry.net import BackgroundSession, SessionOptions
from telemetry.security import pki


@pytest.fixture
def fleet_ca(tmp_path: Path) -> Path:
    folder = tmp_path / "pki"
    pki.init(folder)
    return folder


def _certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_an_issued_certificate_names_the_party_and_its_role_and_chains_to_the_ca(fleet_ca: Path) -> None:
    issued = pki.issue(fleet_ca, "rover-01", "vehicle")
    certificate = _certificate(issued.certificate)
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "rover-01"
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "vehicle"
    certificate.verify_directly_issued_by(_certificate(fleet_ca / "ca.pem"))
    assert stat.S_IMODE(issued.key.stat().st_mode) == 0o600


def test_a_second_init_refuses_to_replace_the_ca(fleet_ca: Path) -> None:
    with pytest.raises(ConfigError, match=r"a CA is already there \(ca.pem\); remove it first"):
        pki.init(fleet_ca)


def test_issuing_without_a_ca_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no fleet CA here .*run `telemetry pki init .*` first"):
        pki.issue(tmp_path, "rover-01", "vehicle")


def test_a_bad_role_or_name_is_a_clear_error(fleet_ca: Path) -> None:
    with pytest.raises(ConfigError, match=r"--role: must be one of vehicle, router, aggregator, dashboard"):
        pki.issue(fleet_ca, "rover-01", "admin")
    with pytest.raises(KeyExprError, match=r"vehicle 'a/b': must not contain '/'"):
        pki.issue(fleet_ca, "a/b", "vehicle")


def _tls(folder: Path, cert: str | None, side: str, trusted: Path | None = None) -> str:
    """Zenoh's TLS section: trust `trusted`'s CA (default: `folder`'s), present `folder`'s `cert`."""
    settings: dict[str, Any] = {"root_ca_certificate": str((trusted or folder) / "ca.pem"), "enable_mtls": True}
    if cert is not None:
        settings[f"{side}_private_key"] = str(folder / f"{cert}.key")
        settings[f"{side}_certificate"] = str(folder / f"{cert}.pem")
    return "transport/link/tls:" + json.dumps(settings)


def _connects(endpoint: str, folder: Path, cert: str | None, trusted: Path | None = None,
              timeout_s: float = 4.0) -> bool:
    key, value = _tls(folder, cert, "connect", trusted).split(":", 1)
    options = SessionOptions(mode="client", connect=(endpoint,), overrides=((key, value),))
    with BackgroundSession(options, name="tls-client") as link:
        return link.wait(timeout_s) is not None


def test_a_mutual_tls_router_admits_fleet_certificates_only(
    processes: ProcessGroup, fleet_ca: Path, tmp_path: Path
) -> None:
    pki.issue(fleet_ca, "cloud", "router")
    pki.issue(fleet_ca, "rover-01", "vehicle")
    stranger_ca = tmp_path / "other"
    pki.init(stranger_ca)
    pki.issue(stranger_ca, "rover-01", "vehicle")
    endpoint = f"tls/127.0.0.1:{free_port()}"
    router = processes.start_module("telemetry.net.router", "--listen", endpoint, "--cfg",
                                    "scouting/multicast/enabled:false", "--cfg", _tls(fleet_ca, "cloud", "listen"),
                                    name="tls-router")
    router.wait_for_line(" listening on ", 15)

    assert _connects(endpoint, fleet_ca, "rover-01", timeout_s=10)
    started = time.monotonic()
    assert not _connects(endpoint, fleet_ca, None)
    assert not _connects(endpoint, stranger_ca, "rover-01", trusted=fleet_ca)  # trusts the router, is not trusted
    assert time.monotonic() - started < 15


def test_pki_fleet_issues_a_certificate_for_every_party_the_access_control_names(
    fleet_ca: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from telemetry.cli import main

    assert main(["pki", "fleet", str(fleet_ca)]) == 0
    written = capsys.readouterr().out.splitlines()
    names = {"cloud-router", "eu-west-router", "us-east-router", "aggregator", "dashboard", "recorder",
             "rover-01", "rover-02", "rover-03"}
    assert len(written) == len(names)
    for name in names:
        subject = _certificate(fleet_ca / f"{name}.pem").subject
        assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name
    router_subject = _certificate(fleet_ca / "eu-west-router.pem").subject
    role = router_subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert role[0].value == "router"
