"""What the dashboard shows, as plain frozen data: one `FleetView` per refresh.

The Zenoh side (feed, state) builds these; the Textual side only renders them. Keeping the
two apart means every number on screen can be checked in a test without a terminal, and a
snapshot test can render a view built from recorded input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from telemetry.fleet.status import VehicleStatus

__all__ = [
    "Alert",
    "AlertLevel",
    "ConnectionState",
    "ConnectionView",
    "FleetTotals",
    "FleetView",
    "StreamView",
    "VehicleView",
    "nan_max",
    "nan_min",
]


def nan_max(values: list[float] | tuple[float, ...]) -> float:
    """The largest value that is known (not NaN); NaN when none is."""
    known = [value for value in values if not math.isnan(value)]
    return max(known) if known else math.nan


def nan_min(values: list[float] | tuple[float, ...]) -> float:
    """The smallest value that is known (not NaN); NaN when none is."""
    known = [value for value in values if not math.isnan(value)]
    return min(known) if known else math.nan


def loss_percent(lost: int, received: int) -> float:
    """Lost as a share of what was sent (lost + received), in percent; 0 when nothing was sent."""
    sent = lost + received
    return 100.0 * lost / sent if sent else 0.0


@dataclass(frozen=True, slots=True)
class StreamView:
    """One stream's stats as the aggregator last published them, plus its recent history."""

    topic: str
    ros_type: str
    batched: bool
    window_s: float
    rate_hz: float
    expected_hz: float
    rate_ratio: float
    latency_p50_ms: float
    latency_p90_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    jitter_ms: float
    received: int
    lost: int
    lost_total: int
    restarts_total: int
    bytes_per_s: float
    stale: bool
    ok: bool = True
    rate_history: tuple[float, ...] = ()
    p99_history: tuple[float, ...] = ()
    # The hops before the network, from the bridge's health reports (msg/StreamStats):
    source_rate_hz: float = math.nan
    lost_dds: int = 0
    dropped_bridge: int = 0
    downsampled: int = 0
    samples_per_message: float = math.nan
    lost_dds_total: int = 0
    dropped_bridge_total: int = 0

    @property
    def loss_pct(self) -> float:
        return loss_percent(self.lost, self.received)


@dataclass(frozen=True, slots=True)
class VehicleView:
    """One vehicle: its status (liveliness first, then the aggregator's word) and its streams."""

    region: str
    vehicle: str
    status: VehicleStatus
    status_since_ns: int
    clock_offset_ms: float
    malformed: int
    streams: tuple[StreamView, ...]
    stats_age_s: float = math.nan
    bridge_cpu_share: float = math.nan  # the bridge's own CPU, 1.0 = one core (its health report)
    bridge_largest_take: int = 0  # most samples of one stream a bridge wake-up found

    @property
    def key(self) -> str:
        return f"{self.region}/{self.vehicle}"

    @property
    def streams_ok(self) -> int:
        return sum(stream.ok for stream in self.streams)

    @property
    def rate_hz(self) -> float:
        return sum(stream.rate_hz for stream in self.streams)

    @property
    def bytes_per_s(self) -> float:
        return sum(stream.bytes_per_s for stream in self.streams)

    @property
    def worst_rate_ratio(self) -> float:
        return nan_min([stream.rate_ratio for stream in self.streams])

    @property
    def worst_p99_ms(self) -> float:
        return nan_max([stream.latency_p99_ms for stream in self.streams])

    @property
    def lost(self) -> int:
        return sum(stream.lost for stream in self.streams)

    @property
    def loss_pct(self) -> float:
        return loss_percent(self.lost, sum(stream.received for stream in self.streams))


@dataclass(frozen=True, slots=True)
class FleetTotals:
    """The header's figures, summed over the vehicles on screen (whatever aggregator sent them)."""

    online: int
    stale: int
    offline: int
    streams: int
    streams_ok: int
    samples_per_s: float
    bytes_per_s: float
    worst_p99_ms: float
    lost: int
    loss_pct: float

    @classmethod
    def of(cls, vehicles: tuple[VehicleView, ...]) -> FleetTotals:
        streams = [stream for vehicle in vehicles for stream in vehicle.streams]
        lost = sum(stream.lost for stream in streams)
        return cls(
            online=sum(v.status is VehicleStatus.ONLINE for v in vehicles),
            stale=sum(v.status is VehicleStatus.STALE for v in vehicles),
            offline=sum(v.status is VehicleStatus.OFFLINE for v in vehicles),
            streams=len(streams),
            streams_ok=sum(stream.ok for stream in streams),
            samples_per_s=sum(stream.rate_hz for stream in streams),
            bytes_per_s=sum(stream.bytes_per_s for stream in streams),
            worst_p99_ms=nan_max([stream.latency_p99_ms for stream in streams]),
            lost=lost,
            loss_pct=loss_percent(lost, sum(stream.received for stream in streams)),
        )


class ConnectionState(Enum):
    """Where the dashboard's Zenoh session stands."""

    CONNECTING = "connecting"  # no router has answered yet
    CONNECTED = "connected"  # at least one router is connected
    ROUTER_LOST = "router lost"  # was connected, no router now: Zenoh keeps retrying
    FAILED = "failed"  # the session could not be opened at all (e.g. a bad config)


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """The header's first line: router, aggregators, and how fresh the stats are."""

    state: ConnectionState
    endpoints: tuple[str, ...]
    routers: tuple[str, ...] = ()
    aggregators: tuple[str, ...] = ()
    embedded: bool = False
    last_stats_age_s: float | None = None  # None: no stats message seen yet
    detail: str = ""  # the error behind FAILED, or what the embedded aggregator is doing
    malformed: int = 0  # stats or fleet messages that could not be decoded


class AlertLevel(Enum):
    INFO = "info"  # something recovered
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing that went wrong (or recovered), stamped with the dashboard's clock."""

    at_ns: int
    level: AlertLevel
    vehicle: str  # "<region>/<vehicle>"
    topic: str  # "" for the vehicle as a whole
    message: str


@dataclass(frozen=True, slots=True)
class RecorderView:
    """A recorder as its latest msg/RecorderStatus says, and how long ago that came."""

    name: str
    samples_per_s: float
    bytes_per_s: float
    free_disk_bytes: int
    samples_dropped: int
    disk_full: bool
    last_error: str
    age_s: float


@dataclass(frozen=True, slots=True)
class FleetView:
    """Everything one refresh shows, in a fixed order (by region, then vehicle)."""

    taken_at_ns: int
    connection: ConnectionView
    vehicles: tuple[VehicleView, ...]
    alerts: tuple[Alert, ...]  # newest first
    totals: FleetTotals
    recorders: tuple[RecorderView, ...] = ()  # by name; those not heard from lately are dropped

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(sorted({vehicle.region for vehicle in self.vehicles}))

    def vehicle(self, key: str) -> VehicleView | None:
        return next((vehicle for vehicle in self.vehicles if vehicle.key == key), None)
