"""Build the aggregator's output messages (msg/VehicleStats, msg/FleetStatus) as CDR.

msg/StreamStats is the one definition of a stream's published record. Its fields are filled
by name from three frozen records (the window's `StreamWindowStats`, the tracker's
`SequenceTotals`, the bridge's `HopStats`), each field under the message's own name, plus a
few the row carries itself (`STREAM_ROW_FIELDS`). A test ties the two: every message field
has exactly one source, so a field added to the .msg file without one fails there instead of
going out as a silent zero.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telemetry.aggregator.health import BridgeLoad
from telemetry.codec import TypeStore
from telemetry.codec.names import BAD_INPUT_COUNT, FLEET_STATUS, STREAM_STATS, TIME, VEHICLE_STATS
from telemetry.codec.stamp import ns_to_stamp
from telemetry.fleet.clock import ClockEstimate
from telemetry.fleet.hops import NO_HOP_STATS, HopStats
from telemetry.fleet.sequence import SequenceTotals
from telemetry.fleet.stats import StreamWindowStats
from telemetry.fleet.status import VehicleStatus

__all__ = ["STREAM_RECORDS", "STREAM_ROW_FIELDS", "MessageBuilder", "StreamRow", "VehicleRow", "record_fields"]

#: A stream counts as OK at this share of its expected rate or more (and not stale).
OK_RATE_RATIO = 0.9
#: The records whose fields msg/StreamStats carries under the same names...
STREAM_RECORDS: tuple[type[Any], ...] = (StreamWindowStats, SequenceTotals, HopStats)
#: ...except these, which the message carries in another form (`last_receive`, a Time)...
_NOT_COPIED = frozenset({"last_receive_ns"})
#: ...and the fields `StreamRow` fills itself.
STREAM_ROW_FIELDS = ("topic", "ros_type", "batched", "overflowed_total", "last_receive")


@dataclass(frozen=True)
class StreamRow:
    """One stream's figures for this tick, as the engine gathered them."""

    topic: str
    ros_type: str
    batched: bool
    stats: StreamWindowStats
    totals: SequenceTotals
    overflowed_total: int = 0  # samples the aggregator's buffer dropped when full
    hops: HopStats = NO_HOP_STATS


@dataclass(frozen=True)
class VehicleRow:
    region: str
    name: str
    status: VehicleStatus
    since_ns: int
    clock: ClockEstimate | None
    bad_input: dict[str, int]
    streams: Sequence[StreamRow]
    bridge: BridgeLoad | None = None


_COPIED_NAMES: dict[type[Any], tuple[str, ...]] = {
    record_type: tuple(f.name for f in dataclasses.fields(record_type) if f.name not in _NOT_COPIED)
    for record_type in STREAM_RECORDS
}


def record_fields(record: StreamWindowStats | SequenceTotals | HopStats) -> dict[str, Any]:
    """The message fields one record fills, by name."""
    return {name: getattr(record, name) for name in _COPIED_NAMES[type(record)]}


def stream_ok(stats: StreamWindowStats) -> bool:
    """Arriving at ≥ 90 % of its expected rate (or any rate when none is expected), not stale."""
    if stats.stale:
        return False
    return math.isnan(stats.rate_ratio) or stats.rate_ratio >= OK_RATE_RATIO


class MessageBuilder:
    """Knows the message classes; turns rows into CDR bytes."""

    def __init__(self, store: TypeStore, regions: Sequence[str] = (), aggregator_id: str = "") -> None:
        self._store = store
        self._regions = list(regions)
        self._aggregator_id = aggregator_id
        self._time = store.factory(TIME)
        self._stream = store.factory(STREAM_STATS)
        self._vehicle = store.factory(VEHICLE_STATS)
        self._bad = store.factory(BAD_INPUT_COUNT)
        self._fleet = store.factory(FLEET_STATUS)

    def stamp(self, ns: int) -> Any:
        sec, nanosec = ns_to_stamp(max(ns, 0))
        return self._time(sec=sec, nanosec=nanosec)

    def vehicle_stats(self, row: VehicleRow, now_ns: int) -> bytes:
        message = self._vehicle(
            stamp=self.stamp(now_ns),
            region=row.region,
            vehicle=row.name,
            status=int(row.status),
            status_since=self.stamp(row.since_ns),
            clock_offset_ms=row.clock.offset_ms if row.clock else math.nan,
            clock_offset_uncertainty_ms=row.clock.uncertainty_ms if row.clock else math.nan,
            bridge_cpu_share=row.bridge.cpu_share if row.bridge else math.nan,
            bridge_largest_take=row.bridge.largest_take if row.bridge else 0,
            malformed=sum(row.bad_input.values()),
            bad_input=[self._bad(kind=kind, count=count) for kind, count in sorted(row.bad_input.items())],
            streams=[self._stream_stats(stream) for stream in row.streams],
        )
        return self._store.encode(message)

    def _stream_stats(self, row: StreamRow) -> Any:
        return self._stream(
            topic=row.topic,
            ros_type=row.ros_type,
            batched=row.batched,
            overflowed_total=row.overflowed_total,
            last_receive=self.stamp(row.stats.last_receive_ns or 0),
            **record_fields(row.stats),
            **record_fields(row.totals),
            **record_fields(row.hops),
        )

    def fleet_status(self, vehicles: Sequence[VehicleRow], now_ns: int) -> bytes:
        streams = [stream for vehicle in vehicles for stream in vehicle.streams]
        p99 = [s.stats.latency_p99_ms for s in streams if not math.isnan(s.stats.latency_p99_ms)]
        ordered = sorted(vehicles, key=lambda v: (v.region, v.name))
        message = self._fleet(
            stamp=self.stamp(now_ns),
            aggregator=self._aggregator_id,
            regions=self._regions,
            vehicles_online=sum(v.status is VehicleStatus.ONLINE for v in vehicles),
            vehicles_stale=sum(v.status is VehicleStatus.STALE for v in vehicles),
            vehicles_offline=sum(v.status is VehicleStatus.OFFLINE for v in vehicles),
            streams=len(streams),
            streams_ok=sum(stream_ok(s.stats) for s in streams),
            samples_per_s=sum(s.stats.rate_hz for s in streams),
            bytes_per_s=sum(s.stats.bytes_per_s for s in streams),
            worst_latency_p99_ms=max(p99, default=math.nan),
            lost=sum(s.stats.lost for s in streams),
            malformed=sum(sum(v.bad_input.values()) for v in vehicles),
            vehicles=[f"{v.region}/{v.name}" for v in ordered],
            vehicle_status=bytes(int(v.status) for v in ordered),
        )
        return self._store.encode(message)
