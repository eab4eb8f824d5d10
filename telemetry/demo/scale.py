"""`telemetry demo --vehicles N`: the config's fleet resized to N vehicles over its regions;
`--rmw-zenoh-vehicles N`: N vehicles on rmw_zenoh added beside them."""

from __future__ import annotations

from dataclasses import replace

from telemetry.config import MAX_ROS_DOMAIN_ID, FleetConfig, StreamConfig, VehicleConfig, VehicleSource
from telemetry.errors import ConfigError
from telemetry.sim.sensors import IMU_TYPE

__all__ = ["scaled_fleet", "with_rmw_zenoh_vehicles"]

#: The ROS domain of the demo's rmw_zenoh robots: on Zenoh it is only a key chunk, and each
#: robot has a namespace of its own (`/robot_01`), as robots sharing a domain do.
RMW_ZENOH_DEMO_DOMAIN = 0


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


def with_rmw_zenoh_vehicles(fleet: FleetConfig, count: int) -> FleetConfig:
    """`count` rmw_zenoh robots (`robot-01` ...) added over the regions, each with the
    config's first 1 kHz-class Imu stream (all the stand-in simulates)."""
    if count < 1:
        raise ConfigError(f"--rmw-zenoh-vehicles: must be >= 1, got {count}")
    imu = next((s for v in fleet.vehicles for s in v.streams if s.ros_type == IMU_TYPE),
               StreamConfig("/imu", IMU_TYPE, 1000.0))
    added = tuple(
        VehicleConfig(name=f"robot-{index + 1:02d}", region=fleet.regions[index % len(fleet.regions)].name,
                      ros_domain_id=RMW_ZENOH_DEMO_DOMAIN, streams=(StreamConfig(imu.topic, IMU_TYPE, imu.rate_hz),),
                      source=VehicleSource.RMW_ZENOH, namespace=f"/robot_{index + 1:02d}")
        for index in range(count)
    )
    return replace(fleet, vehicles=fleet.vehicles + added)
