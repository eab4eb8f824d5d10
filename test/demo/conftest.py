"""Fixtures of the demo tests."""

from __future__ import annotations

import pytest

from telemetry.codec import TypeStore
from telemetry.config import FleetConfig, default_fleet_config_path, load_fleet_config


@pytest.fixture(scope="module")
def shipped(store: TypeStore) -> FleetConfig:
    """The shipped config/fleet.yaml, loaded once per module."""
    return load_fleet_config(default_fleet_config_path(), store)
