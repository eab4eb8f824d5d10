"""What the dashboard runs with, once its flags and the fleet config are checked.

A module of its own so that the command line (cli.py) and the app's start (run.py) share it
without importing each other: cli.py builds it, run.py starts the app from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from telemetry.aggregator.service import ServiceSettings
from telemetry.config import AlertThresholds, FleetConfig
from telemetry.net import SessionOptions

__all__ = ["DashboardOptions"]


@dataclass(frozen=True)
class DashboardOptions:
    fleet: FleetConfig
    session: SessionOptions
    thresholds: AlertThresholds
    embedded: ServiceSettings | None  # the aggregator the dashboard runs itself, if any
    refresh_s: float
    log_path: Path
