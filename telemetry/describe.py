"""A fleet config as a human reads it: routers, vehicles, and the Zenoh key of every stream.

`telemetry config` prints this so that an engineer can check what a config will do before
starting anything, the way `ros2 topic list -v` shows what a graph holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from telemetry.codec.rmw_zenoh import data_key
from telemetry.config import FleetConfig, StreamConfig, VehicleConfig, VehicleSource
from telemetry.keys import KeySpace

__all__ = ["describe_fleet"]

_COLUMNS = ("VEHICLE", "REGION", "DOMAIN", "TOPIC", "TYPE", "RATE_HZ", "PRIORITY", "OPTIONS", "KEY")


def describe_fleet(fleet: FleetConfig) -> str:
    """A summary header, the routers, and one table row per stream."""
    keys = KeySpace(fleet.key_root)
    streams = sum(len(vehicle.streams) for vehicle in fleet.vehicles)
    lines = [
        f"{fleet.source}: OK: {len(fleet.regions)} regions, {len(fleet.vehicles)} vehicles, "
        f"{streams} streams",
        "",
        f"cloud router      listen {', '.join(fleet.cloud.listen)}",
    ]
    for region in fleet.regions:
        names = ", ".join(v.name for v in fleet.vehicles_in(region.name)) or "(none)"
        lines.append(f"region {region.name:<10} listen {', '.join(region.router.listen)}  vehicles: {names}")
    alerts = fleet.alerts
    lines.append(f"alerts            rate below {alerts.min_rate_ratio:.0%} of expected, "
                 f"p99 latency above {alerts.max_latency_p99_ms:g} ms, any loss")
    rows = [_row(keys, vehicle, stream) for vehicle in fleet.vehicles for stream in vehicle.streams]
    lines += ["", *_table([_COLUMNS, *rows])]
    return "\n".join(lines)


def _row(keys: KeySpace, vehicle: VehicleConfig, stream: StreamConfig) -> tuple[str, ...]:
    options = []
    if stream.max_rate_hz is not None:
        options.append(f"max {stream.max_rate_hz:g} Hz")
    if stream.batch_ms is not None:
        options.append(f"budget {stream.batch_ms:g} ms")
    if stream.reliable:
        options.append("reliable")
    return (
        vehicle.name, vehicle.region, str(vehicle.ros_domain_id), stream.topic, stream.ros_type,
        f"{stream.rate_hz:g}", str(stream.priority.value), ", ".join(options) or "-",
        _data_key(keys, vehicle, stream),
    )


def _data_key(keys: KeySpace, vehicle: VehicleConfig, stream: StreamConfig) -> str:
    """The key the stream arrives on: the fleet's, or for an rmw_zenoh vehicle rmw_zenoh's own."""
    if vehicle.source is VehicleSource.RMW_ZENOH:
        topic = stream.topic if vehicle.namespace == "/" else vehicle.namespace + stream.topic
        return data_key(vehicle.ros_domain_id, topic, stream.ros_type, "*")
    return keys.data(vehicle.region, vehicle.name, stream.topic)


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
