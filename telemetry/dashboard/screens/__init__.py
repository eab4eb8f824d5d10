"""The dashboard's screens: the fleet table with alerts, one vehicle's streams, and help."""

from __future__ import annotations

from telemetry.dashboard.screens.fleet import FleetScreen
from telemetry.dashboard.screens.help import HelpScreen
from telemetry.dashboard.screens.vehicle import VehicleScreen

__all__ = ["FleetScreen", "HelpScreen", "VehicleScreen"]
