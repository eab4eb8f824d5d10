"""Decode the aggregator's messages (msg/VehicleStats, msg/FleetStatus) into plain records.

Anything that fails to decode is a `CodecError` naming the key, which the caller counts and
logs; a bad message never reaches the screen as a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telemetry.codec import TypeStore
from telemetry.dashboard.view import StreamView
from telemetry.errors import CodecError
from telemetry.fleet.status import VehicleStatus

__all__ = ["FleetReport", "VehicleReport", "decode_fleet_status", "decode_vehicle_stats"]

VEHICLE_STATS = "telemetry/msg/VehicleStats"
FLEET_STATUS = "telemetry/msg/FleetStatus"
_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class VehicleReport:
    """One msg/VehicleStats as the aggregator sent it."""

    region: str
    vehicle: str
    status: VehicleStatus
    status_since_ns: int
    stamp_ns: int
    clock_offset_ms: float
    malformed: int
    streams: tuple[StreamView, ...]
    bridge_cpu_share: float = float("nan")
    bridge_largest_take: int = 0


@dataclass(frozen=True, slots=True)
class FleetReport:
    """One msg/FleetStatus: which aggregator is alive, and which vehicles it knows."""

    aggregator: str
    regions: tuple[str, ...]
    stamp_ns: int
    vehicles: tuple[str, ...]


def _ns(stamp: Any) -> int:
    return int(stamp.sec) * _NS + int(stamp.nanosec)


def _stream(message: Any) -> StreamView:
    return StreamView(
        topic=message.topic,
        ros_type=message.ros_type,
        batched=bool(message.batched),
        window_s=float(message.window_s),
        rate_hz=float(message.rate_hz),
        expected_hz=float(message.expected_hz),
        rate_ratio=float(message.rate_ratio),
        latency_p50_ms=float(message.latency_p50_ms),
        latency_p90_ms=float(message.latency_p90_ms),
        latency_p99_ms=float(message.latency_p99_ms),
        latency_max_ms=float(message.latency_max_ms),
        jitter_ms=float(message.jitter_ms),
        received=int(message.received),
        lost=int(message.lost),
        lost_total=int(message.lost_total),
        sequence_resets=int(message.sequence_resets),
        bytes_per_s=float(message.bytes_per_s),
        stale=bool(message.stale),
        source_rate_hz=float(message.source_rate_hz),
        lost_dds=int(message.lost_dds),
        dropped_bridge=int(message.dropped_bridge),
        downsampled=int(message.downsampled),
        samples_per_message=float(message.samples_per_message),
        lost_dds_total=int(message.lost_dds_total),
        dropped_bridge_total=int(message.dropped_bridge_total),
    )


def _check_schema(key: str, encoding: str | None, type_name: str) -> None:
    """CDR carries no type tag: a FleetStatus would decode as a garbage VehicleStats. The
    aggregator names the type as the encoding's schema; a different one is refused."""
    if encoding is None:
        return
    _, _, schema = encoding.partition(";")
    if schema != type_name:
        raise CodecError(f"{key}: published as {encoding!r}, expected application/cdr;{type_name}")


def decode_vehicle_stats(store: TypeStore, key: str, payload: bytes, encoding: str | None = None) -> VehicleReport:
    """The VehicleStats published on `key`; a CodecError naming `key` if it is not one.

    `encoding` (the Zenoh encoding it came with) is checked when given."""
    _check_schema(key, encoding, VEHICLE_STATS)
    try:
        message = store.decode(VEHICLE_STATS, payload)
        status = VehicleStatus(int(message.status))
        return VehicleReport(
            region=message.region,
            vehicle=message.vehicle,
            status=status,
            status_since_ns=_ns(message.status_since),
            stamp_ns=_ns(message.stamp),
            clock_offset_ms=float(message.clock_offset_ms),
            malformed=int(message.malformed),
            streams=tuple(sorted((_stream(s) for s in message.streams), key=lambda s: s.topic)),
            bridge_cpu_share=float(message.bridge_cpu_share),
            bridge_largest_take=int(message.bridge_largest_take),
        )
    except CodecError as error:
        raise CodecError(f"{key}: {error}") from None
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise CodecError(f"{key}: not a {VEHICLE_STATS}: {error}") from None


def decode_fleet_status(store: TypeStore, key: str, payload: bytes, encoding: str | None = None) -> FleetReport:
    """The FleetStatus published on `key`; a CodecError naming `key` if it is not one."""
    _check_schema(key, encoding, FLEET_STATUS)
    try:
        message = store.decode(FLEET_STATUS, payload)
        return FleetReport(
            aggregator=message.aggregator,
            regions=tuple(message.regions),
            stamp_ns=_ns(message.stamp),
            vehicles=tuple(message.vehicles),
        )
    except CodecError as error:
        raise CodecError(f"{key}: {error}") from None
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise CodecError(f"{key}: not a {FLEET_STATUS}: {error}") from None
