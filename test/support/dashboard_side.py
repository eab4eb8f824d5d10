"""The aggregator's side of the dashboard, played by a test: stats messages and tokens.

`stats_payload` builds a real msg/VehicleStats (CDR, the project's codec), `StatsTicker`
publishes a set of them on a real Zenoh session every `period_s` the way the aggregator
does, and `fixed_source` gives the app deterministic views for snapshots and timing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import zenoh

from telemetry.codec import TypeStore
from telemetry.dashboard.reports import decode_vehicle_stats
from telemetry.dashboard.state import FleetState, StateSettings
from telemetry.dashboard.view import ConnectionState, ConnectionView, FleetView
from telemetry.fleet.status import VehicleStatus
from telemetry.keys import KeySpace

__all__ = ["FixedSource", "StatsTicker", "StreamValues", "fleet_of", "stats_payload", "wait_for"]

_NS = 1_000_000_000
VEHICLE_STATS = "telemetry/msg/VehicleStats"


@dataclass(frozen=True)
class StreamValues:
    """One stream's published stats; latency percentiles follow from `p99_ms`."""

    topic: str = "/imu"
    rate_hz: float = 1000.0
    expected_hz: float = 1000.0
    p99_ms: float = 1.0
    lost: int = 0
    ros_type: str = "sensor_msgs/msg/Imu"
    stale: bool = False
    bytes_per_s: float = 350_000.0
    source_rate_hz: float | None = None  # None: what arrived (nothing lost before the network)
    lost_dds: int = 0
    samples_per_message: float = 1.0


@dataclass
class VehicleValues:
    region: str
    vehicle: str
    streams: list[StreamValues] = field(default_factory=lambda: [StreamValues()])
    status: VehicleStatus = VehicleStatus.ONLINE
    clock_offset_ms: float = 0.0


def stats_payload(store: TypeStore, values: VehicleValues, stamp_ns: int) -> bytes:
    def stamp(ns: int) -> Any:
        sec, nanosec = divmod(ns, _NS)
        return store.new("builtin_interfaces/msg/Time", sec=sec, nanosec=nanosec)

    streams = []
    for s in values.streams:
        received = round(s.rate_hz * 5)
        streams.append(store.new(
            "telemetry/msg/StreamStats",
            topic=s.topic, ros_type=s.ros_type, batched=False, window_s=5.0,
            rate_hz=s.rate_hz, expected_hz=s.expected_hz,
            rate_ratio=s.rate_hz / s.expected_hz if s.expected_hz else math.nan,
            latency_p50_ms=s.p99_ms * 0.3, latency_p90_ms=s.p99_ms * 0.6, latency_p99_ms=s.p99_ms,
            latency_max_ms=s.p99_ms * 2, jitter_ms=0.05,
            corrected_latency_p50_ms=math.nan, corrected_latency_p90_ms=math.nan,
            corrected_latency_p99_ms=math.nan, corrected_latency_max_ms=math.nan,
            received=received, lost=s.lost, received_total=received, lost_total=s.lost,
            restarts_total=0, bytes_per_s=s.bytes_per_s, stale=s.stale, last_receive=stamp(stamp_ns),
            source_rate_hz=s.rate_hz if s.source_rate_hz is None else s.source_rate_hz, lost_dds=s.lost_dds,
            dropped_bridge=0, downsampled=0, samples_per_message=s.samples_per_message,
            lost_dds_total=s.lost_dds, dropped_bridge_total=0,
        ))
    message = store.new(
        VEHICLE_STATS, stamp=stamp(stamp_ns), region=values.region, vehicle=values.vehicle,
        status=int(values.status), status_since=stamp(stamp_ns - 60 * _NS),
        clock_offset_ms=values.clock_offset_ms, clock_offset_uncertainty_ms=0.05,
        bridge_cpu_share=0.1, bridge_largest_take=1, malformed=0, bad_input=[], streams=streams,
    )
    return store.encode(message)


class StatsTicker:
    """Publishes every vehicle's current values every `period_s` from a thread, like an aggregator."""

    def __init__(self, session: zenoh.Session, store: TypeStore, vehicles: Iterable[VehicleValues],
                 period_s: float = 0.2, keys: KeySpace = KeySpace()) -> None:
        self._session, self._store, self._keys = session, store, keys
        self._lock = threading.Lock()
        self._vehicles = {(v.region, v.vehicle): v for v in vehicles}
        self._period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stats-ticker", daemon=True)
        self._encoding = zenoh.Encoding.APPLICATION_CDR.with_schema(VEHICLE_STATS)
        self.published = 0

    def __enter__(self) -> StatsTicker:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def update(self, region: str, vehicle: str, change: Callable[[VehicleValues], None]) -> None:
        with self._lock:
            change(self._vehicles[(region, vehicle)])

    def _run(self) -> None:
        import time

        while not self._stop.wait(self._period_s):
            with self._lock:
                payloads = [(self._keys.stats(v.region, v.vehicle), stats_payload(self._store, v, time.time_ns()))
                            for v in self._vehicles.values()]
            for key, payload in payloads:
                self._session.put(key, payload, encoding=self._encoding)
            self.published += 1


def fleet_of(vehicles: int, streams: int, regions: tuple[str, ...] = ("eu-west", "us-east")) -> list[VehicleValues]:
    """`vehicles` x `streams` with varied, reproducible values (no randomness)."""
    fleet = []
    for index in range(vehicles):
        topics = [StreamValues(topic=f"/sensor_{s:02d}", rate_hz=100.0 - (index + s) % 7,
                               expected_hz=100.0, p99_ms=0.5 + ((index * 7 + s * 3) % 40) / 10)
                  for s in range(streams)]
        fleet.append(VehicleValues(regions[index % len(regions)], f"rover-{index + 1:03d}", topics))
    return fleet


class FixedSource:
    """A `FleetSource` with no network: reports fed by the test, a fixed clock and connection."""

    def __init__(self, store: TypeStore, now_ns: int, settings: StateSettings = StateSettings(),
                 connection: ConnectionView | None = None) -> None:
        self.store = store
        self.now_ns = now_ns
        self.state = FleetState(settings)
        self.connection = connection or ConnectionView(
            ConnectionState.CONNECTED, ("tcp/127.0.0.1:7447",), routers=("a1b2c3",),
        )
        self.closed = False

    def feed(self, vehicles: Iterable[VehicleValues], received_ns: int, keys: KeySpace = KeySpace()) -> None:
        for v in vehicles:
            key = keys.stats(v.region, v.vehicle)
            report = decode_vehicle_stats(self.store, key, stats_payload(self.store, v, received_ns))
            self.state.add_report(report, received_ns)

    def start(self) -> None:
        pass

    def collect(self) -> FleetView:
        return self.state.view(self.now_ns, self.connection)

    def close(self) -> None:
        self.closed = True


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Let the app run until `condition()` holds; False after `timeout_s`."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()
