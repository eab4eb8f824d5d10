"""The dashboard's model of the fleet, fed with decoded reports, read as one `FleetView`.

Status comes from two places: the aggregator's VehicleStats, and the dashboard's own
liveliness subscriber. A token seen going away wins at once (a vehicle is offline the moment
its bridge dies, not at the next aggregator tick); otherwise the aggregator's word stands,
because only it knows whether data is still arriving. Nothing here does I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from telemetry.config import AlertThresholds
from telemetry.dashboard.alerts import AlertTracker, stream_ok
from telemetry.dashboard.history import StreamHistory
from telemetry.dashboard.reports import FleetReport, VehicleReport
from telemetry.dashboard.view import ConnectionView, FleetTotals, FleetView, RecorderView, StreamView, VehicleView
from telemetry.fleet.status import VehicleStatus
from telemetry.fleet.vehicle_key import VehicleKey

__all__ = ["FleetState", "StateSettings"]

_NS = 1_000_000_000

#: A recorder silent this long leaves the header (one that is merely late is shown as late first).
_RECORDER_FORGOTTEN_S = 300.0

@dataclass(frozen=True)
class StateSettings:
    thresholds: AlertThresholds = AlertThresholds()
    history_span_s: float = 180.0  # how far back the sparklines reach
    history_step_s: float = 2.0
    aggregator_timeout_s: float = 3.0  # an aggregator silent this long is no longer listed
    forget_after_s: float = 600.0  # a vehicle with neither token nor stats this long leaves the table


@dataclass
class _Vehicle:
    region: str
    vehicle: str
    report: VehicleReport | None = None
    report_ns: int = 0
    token: bool | None = None  # None: never seen by our liveliness subscriber
    token_ns: int = 0


class FleetState:
    """Latest report per vehicle, liveliness, sparkline histories and alerts."""

    def __init__(self, settings: StateSettings = StateSettings()) -> None:
        self.settings = settings
        self.alerts = AlertTracker(settings.thresholds)
        self._vehicles: dict[VehicleKey, _Vehicle] = {}
        self._histories: dict[tuple[str, str, str], StreamHistory] = {}
        self._aggregators: dict[str, int] = {}  # id -> when its last FleetStatus arrived
        self._last_stats_ns: int | None = None
        self._recorders: dict[str, tuple[RecorderView, int]] = {}  # name -> (latest status, when it came)

    def add_report(self, report: VehicleReport, received_ns: int) -> None:
        entry = self._entry(report.region, report.vehicle)
        entry.report, entry.report_ns = report, received_ns
        self._last_stats_ns = max(self._last_stats_ns or 0, received_ns)
        topics = {stream.topic for stream in report.streams}
        for gone in [k for k in self._histories if k[:2] == (report.region, report.vehicle) and k[2] not in topics]:
            del self._histories[gone]
        for stream in report.streams:
            history = self._histories.get((report.region, report.vehicle, stream.topic))
            if history is None:
                history = StreamHistory(self.settings.history_span_s, self.settings.history_step_s)
                self._histories[(report.region, report.vehicle, stream.topic)] = history
            history.add(received_ns, stream.rate_hz, stream.latency_p99_ms)

    def add_fleet(self, report: FleetReport, received_ns: int) -> None:
        self._aggregators[report.aggregator] = received_ns
        self._last_stats_ns = max(self._last_stats_ns or 0, received_ns)

    def add_recorder(self, recorder: RecorderView, received_ns: int) -> None:
        self._recorders[recorder.name] = (recorder, received_ns)

    def set_alive(self, region: str, vehicle: str, alive: bool, at_ns: int) -> None:
        entry = self._entry(region, vehicle)
        entry.token, entry.token_ns = alive, at_ns

    def view(self, now_ns: int, connection: ConnectionView) -> FleetView:
        """The fleet as of `now_ns`; also raises the alerts this view implies."""
        self._forget(now_ns)
        vehicles = tuple(
            self._vehicle_view(entry, now_ns) for _, entry in sorted(self._vehicles.items())
        )
        self.alerts.observe(vehicles, now_ns)
        timeout_ns = int(self.settings.aggregator_timeout_s * _NS)
        aggregators = tuple(sorted(a for a, seen in self._aggregators.items() if now_ns - seen <= timeout_ns))
        age = None if self._last_stats_ns is None else max(0.0, (now_ns - self._last_stats_ns) / _NS)
        connection = replace(connection, aggregators=aggregators, last_stats_age_s=age)
        recorders = tuple(replace(view, age_s=(now_ns - at_ns) / _NS)
                          for _, (view, at_ns) in sorted(self._recorders.items())
                          if now_ns - at_ns <= _RECORDER_FORGOTTEN_S * _NS)
        return FleetView(now_ns, connection, vehicles, self.alerts.alerts, FleetTotals.of(vehicles), recorders)

    def _entry(self, region: str, vehicle: str) -> _Vehicle:
        entry = self._vehicles.get(VehicleKey(region, vehicle))
        if entry is None:
            entry = self._vehicles[VehicleKey(region, vehicle)] = _Vehicle(region, vehicle)
        return entry

    def _vehicle_view(self, entry: _Vehicle, now_ns: int) -> VehicleView:
        report = entry.report
        status, since_ns = _status(entry)
        streams = report.streams if report else ()
        thresholds = self.settings.thresholds
        return VehicleView(
            region=entry.region,
            vehicle=entry.vehicle,
            status=status,
            status_since_ns=since_ns,
            clock_offset_ms=report.clock_offset_ms if report else math.nan,
            malformed=report.malformed if report else 0,
            streams=tuple(self._with_history(entry, stream, thresholds) for stream in streams),
            stats_age_s=(now_ns - entry.report_ns) / _NS if report else math.nan,
            bridge_cpu_share=report.bridge_cpu_share if report else math.nan,
            bridge_largest_take=report.bridge_largest_take if report else 0,
        )

    def _with_history(self, entry: _Vehicle, stream: StreamView, thresholds: AlertThresholds) -> StreamView:
        history = self._histories.get((entry.region, entry.vehicle, stream.topic))
        return replace(
            stream,
            ok=stream_ok(stream, thresholds),
            rate_history=history.rate_hz if history else (),
            p99_history=history.p99_ms if history else (),
        )

    def _forget(self, now_ns: int) -> None:
        limit_ns = int(self.settings.forget_after_s * _NS)
        for key, entry in list(self._vehicles.items()):
            last_ns = max(entry.report_ns, entry.token_ns)
            if entry.token is not True and now_ns - last_ns > limit_ns:
                del self._vehicles[key]
                self.alerts.forget(f"{key[0]}/{key[1]}")
                for history_key in [h for h in self._histories if h[:2] == key]:
                    del self._histories[history_key]


def _status(entry: _Vehicle) -> tuple[VehicleStatus, int]:
    """A token seen going away first; then the aggregator's word; then the token alone."""
    report = entry.report
    if entry.token is False:
        if report is not None and report.status is VehicleStatus.OFFLINE:
            return VehicleStatus.OFFLINE, report.status_since_ns
        return VehicleStatus.OFFLINE, entry.token_ns
    if report is not None:
        return report.status, report.status_since_ns
    return VehicleStatus.ONLINE, entry.token_ns
