"""`telemetry demo --secure`: the same fleet over mutual TLS with the generated access control.

Everything a secure run needs is made fresh in its log folder: a development CA and one
certificate per party (`pki/`, as `telemetry pki` makes them) and every party's Zenoh config
(`zenoh/`, as `telemetry acl --out` writes them). The processes are the plain demo's, each
given its config with `-c`; so the demo proves the shipped mechanism, not a variant of it.
"""

from __future__ import annotations

from pathlib import Path

from telemetry.config import FleetConfig
from telemetry.security import pki
from telemetry.security.acl import parties
from telemetry.security.deployment import write_secure_configs

__all__ = ["prepare_secure_run"]


def prepare_secure_run(fleet: FleetConfig, log_dir: Path) -> Path:
    """Make the run's CA, certificates and Zenoh configs; the folder of configs (`zenoh_dir`).

    `fleet` must already have its TLS endpoints (telemetry.security.deployment.secure_fleet)."""
    pki_dir = log_dir / "pki"
    pki.init(pki_dir)
    for name, role in parties(fleet):
        pki.issue(pki_dir, name, role)
    zenoh_dir = log_dir / "zenoh"
    write_secure_configs(fleet, zenoh_dir, pki_dir, "telemetry demo --secure")
    return zenoh_dir
