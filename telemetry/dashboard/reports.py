"""Decode the aggregator's messages (msg/VehicleStats, msg/FleetStatus) into plain records.

Anything that fails to decode is a `CodecError` naming the key, which the caller counts and
logs; a bad message never reaches the screen as a traceback.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from telemetry.codec import TypeStore
from telemetry.codec.names import FLEET_STATUS, RECORDER_STATUS, VEHICLE_STATS
from telemetry.codec.stamp import stamp_to_ns
from telemetry.dashboard.view import RecorderView, StreamView
from telemetry.errors import CodecError
from telemetry.fleet.status import VehicleStatus

__all__ = ["FleetReport", "VehicleReport", "decode_fleet_status", "decode_recorder_status", "decode_vehicle_stats"]



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
    return stamp_to_ns(int(stamp.sec), int(stamp.nanosec))


#: StreamView's fields that the dashboard adds itself; every other one is msg/StreamStats'
#: field of the same name (test/dashboard/test_reports.py checks the two stay in step).
VIEW_ONLY_FIELDS = frozenset({"ok", "rate_history", "p99_history"})
#: (field, its Python type) for the ones copied from the message: CDR gives numpy-free
#: scalars already, but bool and int fields may arrive as other ints.
_COPIED: tuple[tuple[str, type], ...] = tuple(
    (f.name, {"str": str, "bool": bool, "int": int, "float": float}[str(f.type)])
    for f in dataclasses.fields(StreamView)
    if f.name not in VIEW_ONLY_FIELDS
)


def _stream(message: Any) -> StreamView:
    return StreamView(**{name: kind(getattr(message, name)) for name, kind in _COPIED})


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


def decode_recorder_status(store: TypeStore, key: str, payload: bytes, encoding: str | None = None) -> RecorderView:
    """The RecorderStatus published on `key`, as the header shows it; a CodecError naming `key` if it is not one."""
    _check_schema(key, encoding, RECORDER_STATUS)
    try:
        message = store.decode(RECORDER_STATUS, payload)
        return RecorderView(message.name, message.samples_per_s, message.bytes_per_s, message.free_disk_bytes,
                            message.samples_dropped, message.disk_full, message.last_error, age_s=0.0)
    except CodecError as error:
        raise CodecError(f"{key}: {error}") from None
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise CodecError(f"{key}: not a {RECORDER_STATUS}: {error}") from None
