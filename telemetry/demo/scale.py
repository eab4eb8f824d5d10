"""`telemetry demo --vehicles N`: the config's fleet resized to N vehicles over its regions."""

from __future__ import annotations

from dataclasses import replace

from telemetry.config import MAX_ROS_DOMAIN_ID, FleetConfig, VehicleConfig
from telemetry.errors import ConfigError

__all__ = ["scaled_fleet"]


def scaled_fleet(fleet: FleetConfig, count: int) -> FleetConfig:
    """`count` vehicles named like the config's (`rover-01` ...), spread round-robin over the
    regions, each with the streams of the config's vehicle at the same position (cycled)
    and its own ROS domain id counting up from the config's lowest."""
    first_domain = min(v.ros_domain_id for v in fleet.vehicles)
    if count < 1:
        raise ConfigError(f"--vehicles: must be >= 1, got {count}")
    if first_domain + count - 1 > MAX_ROS_DOMAIN_ID:
        raise ConfigError(
            f"--vehicles: at most {MAX_ROS_DOMAIN_ID - first_domain + 1} vehicles fit in ROS domain ids "
            f"{first_domain}..{MAX_ROS_DOMAIN_ID} (one per vehicle), got {count}"
        )
    prefix = fleet.vehicles[0].name.rstrip("0123456789").rstrip("-_") or "vehicle"
    width = max(2, len(str(count)))
    vehicles = tuple(
        VehicleConfig(
            name=f"{prefix}-{index + 1:0{width}d}",
            region=fleet.regions[index % len(fleet.regions)].name,
            ros_domain_id=first_domain + index,
            streams=fleet.vehicles[index % len(fleet.vehicles)].streams,
        )
        for index in range(count)
    )
    return replace(fleet, vehicles=vehicles)
