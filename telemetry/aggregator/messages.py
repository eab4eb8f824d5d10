"""Build the aggregator's output messages (msg/VehicleStats, msg/FleetStatus) as CDR."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telemetry.aggregator.health import BridgeLoad
from telemetry.codec import TypeStore
from telemetry.fleet.clock import ClockEstimate
from telemetry.fleet.hops import NO_HOP_STATS, HopStats
from telemetry.fleet.sequence import SequenceTracker
from telemetry.fleet.stats import StreamWindowStats
from telemetry.fleet.status import VehicleStatus

__all__ = ["MessageBuilder", "StreamRow", "VehicleRow"]

_NS = 1_000_000_000
#: A stream counts as OK at this share of its expected rate or more (and not stale).
OK_RATE_RATIO = 0.9


@dataclass(frozen=True)
class StreamRow:
    topic: str
    ros_type: str
    batched: bool
    stats: StreamWindowStats
    tracker: SequenceTracker
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
        self._time = store.message_class("builtin_interfaces/msg/Time")
        self._stream = store.message_class("telemetry/msg/StreamStats")
        self._vehicle = store.message_class("telemetry/msg/VehicleStats")
        self._bad = store.message_class("telemetry/msg/BadInputCount")
        self._fleet = store.message_class("telemetry/msg/FleetStatus")

    def stamp(self, ns: int) -> Any:
        sec, nanosec = divmod(max(ns, 0), _NS)
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
        s, tracker, hops = row.stats, row.tracker, row.hops
        return self._stream(
            topic=row.topic,
            ros_type=row.ros_type,
            batched=row.batched,
            window_s=s.window_s,
            rate_hz=s.rate_hz,
            expected_hz=s.expected_hz,
            rate_ratio=s.rate_ratio,
            latency_p50_ms=s.latency_p50_ms,
            latency_p90_ms=s.latency_p90_ms,
            latency_p99_ms=s.latency_p99_ms,
            latency_max_ms=s.latency_max_ms,
            jitter_ms=s.jitter_ms,
            latency_corrected_p50_ms=s.corrected_latency_p50_ms,
            latency_corrected_p99_ms=s.corrected_latency_p99_ms,
            received=s.received,
            lost=s.lost,
            received_total=tracker.received_total,
            lost_total=tracker.lost_total,
            sequence_resets=tracker.restarts_total,
            bytes_per_s=s.bytes_per_s,
            source_rate_hz=hops.source_rate_hz,
            lost_dds=hops.lost_dds,
            dropped_bridge=hops.dropped_bridge,
            downsampled=hops.downsampled,
            samples_per_message=hops.samples_per_message,
            lost_dds_total=hops.lost_dds_total,
            dropped_bridge_total=hops.dropped_bridge_total,
            stale=s.stale,
            last_receive=self.stamp(s.last_receive_ns or 0),
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
