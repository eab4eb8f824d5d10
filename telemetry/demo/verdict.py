"""Judge a headless demo run and write it down: every stream at its rate, nothing lost.

Pure: a `FleetView` and the fleet config in, reasons and JSON-ready data out, so the rule
(within 5 % of the expected rate, no loss, every vehicle online) is tested without a fleet.

The verdict tells the machine from the pipeline. When a simulated sensor itself published
below its rate (the bridge counts what the source published from DDS sequence numbers), the
machine is saturated: the run fails for that reason, with the figures, instead of blaming
the pipeline for carrying what it was given. A loss in the pipeline is named with its hop:
between the sensor and the bridge (DDS), in the bridge, or on the network.

Loss is counted from the moment the fleet was up (`baseline`: each stream's totals then).
While routes are still being set up, Zenoh drops what it cannot route yet (the bridge counts
it as not routed); that start-up loss is reported in the JSON but is not a failure of the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from telemetry.config import FleetConfig
from telemetry.dashboard.view import FleetView, StreamView, VehicleView
from telemetry.fleet.status import VehicleStatus

__all__ = [
    "RATE_TOLERANCE",
    "Baseline",
    "LostTotals",
    "StarvedSource",
    "baseline_of",
    "fleet_json",
    "judge",
    "saturated_sources",
]

RATE_TOLERANCE = 0.05
#: Stats come every 0.5 s: older than this, the aggregator stopped publishing (or is cut off).
STATS_TOO_OLD_S = 3.0



class LostTotals(NamedTuple):
    """One stream's loss since it was first seen, per hop."""

    dds: int  # between the sensor and the bridge
    bridge: int  # dropped in the bridge (not routed, malformed, put errors)
    network: int  # between the bridge and the aggregator

    @staticmethod
    def of(stream: StreamView) -> LostTotals:
        return LostTotals(stream.lost_dds_total, stream.dropped_bridge_total, stream.lost_total)

    def since(self, earlier: LostTotals | None) -> LostTotals:
        """What was lost after `earlier`; a total that went down (a restarted bridge) counts from 0."""
        if earlier is None:
            return self
        return LostTotals(*(now - then if now >= then else now for now, then in zip(self, earlier, strict=True)))


#: Where each kind of loss happened, for the reasons.
_HOPS = {"dds": "between the sensor and the bridge (DDS)", "bridge": "in the bridge",
         "network": "on the network (bridge -> aggregator)"}

Baseline = dict[tuple[str, str], LostTotals]  # ("<region>/<vehicle>", topic) -> totals when the fleet was up


def baseline_of(view: FleetView) -> Baseline:
    return {(v.key, s.topic): LostTotals.of(s) for v in view.vehicles for s in v.streams}


class StarvedSource(NamedTuple):
    """A stream whose source published below its configured rate."""

    vehicle: str  # "<region>/<vehicle>"
    topic: str
    source_rate_hz: float
    rate_hz: float

    def __str__(self) -> str:
        return (f"{self.vehicle} {self.topic}: the source published {self.source_rate_hz:.1f} Hz, "
                f"{self.source_rate_hz / self.rate_hz:.1%} of its {self.rate_hz:g} Hz")


def saturated_sources(view: FleetView, fleet: FleetConfig, tolerance: float = RATE_TOLERANCE) -> list[StarvedSource]:
    """The streams whose source itself published below its configured rate: the machine, not
    the pipeline, fell behind."""
    found = []
    for vehicle_config in fleet.vehicles:
        vehicle = view.vehicle(f"{vehicle_config.region}/{vehicle_config.name}")
        if vehicle is None:
            continue
        streams = {s.topic: s for s in vehicle.streams}
        for stream_config in vehicle_config.streams:
            stream = streams.get(stream_config.topic)
            # A stale stream's source stopped (a dead driver), which is said as such; a saturated
            # machine's sources still publish, only slower.
            if stream is None or stream.stale or math.isnan(stream.source_rate_hz):
                continue
            # Counted over a window of about window_s, a slow stream's rate moves one sample at a
            # time (a 1 Hz battery over 5 s: 0.8 or 1.0 Hz): short by one sample is no starvation.
            one_sample_hz = 1.0 / stream.window_s if stream.window_s > 0 else 0.0
            if stream.source_rate_hz + one_sample_hz < stream_config.rate_hz * (1.0 - tolerance) - 1e-9:
                found.append(StarvedSource(vehicle.key, stream.topic, stream.source_rate_hz, stream_config.rate_hz))
    return found


def judge(
    view: FleetView,
    fleet: FleetConfig,
    baseline: Baseline | None = None,
    tolerance: float = RATE_TOLERANCE,
    exited: Sequence[str] = (),
) -> list[str]:
    """Why the run failed, one line per problem; empty when every stream met the bar.

    `exited`: a line for each of the demo's processes that ended during the run; any one
    fails the run, since the last stats it left behind may still look fine."""
    reasons = list(exited)
    saturated = saturated_sources(view, fleet, tolerance)
    if saturated:
        reasons.append(f"the machine is saturated: {len(saturated)} simulated sensor stream(s) published below "
                       "their rate, so the pipeline was not given the full load (CPU starved; see each bridge's CPU)")
        reasons += [f"  {starved}" for starved in saturated]
    age_s = view.connection.last_stats_age_s
    if age_s is None or age_s > STATS_TOO_OLD_S:
        heard = "never" if age_s is None else f"not for {age_s:.0f} s"
        reasons.append(f"aggregator: stats heard {heard}, so the figures below are not current")
    for vehicle_config in fleet.vehicles:
        key = f"{vehicle_config.region}/{vehicle_config.name}"
        vehicle = view.vehicle(key)
        if vehicle is None:
            reasons.append(f"{key}: never seen (no liveliness token, no stats)")
            continue
        if vehicle.status is not VehicleStatus.ONLINE:
            reasons.append(f"{key}: {_status_problem(vehicle)}")
        elif not vehicle.stats_age_s <= STATS_TOO_OLD_S:
            reasons.append(f"{key}: its last stats are {vehicle.stats_age_s:.0f} s old")
        streams = {s.topic: s for s in vehicle.streams}
        starved = {(s.vehicle, s.topic) for s in saturated}
        for stream_config in vehicle_config.streams:
            stream = streams.get(stream_config.topic)
            if stream is None:
                reasons.append(f"{key} {stream_config.topic}: no stats (nothing arrived)")
                continue
            expected_hz = stream.expected_hz if not math.isnan(stream.expected_hz) else stream_config.forwarded_rate_hz
            lost = LostTotals.of(stream).since((baseline or {}).get((key, stream.topic)))
            problems = _stream_problems(stream, expected_hz, lost, tolerance, (key, stream.topic) in starved)
            reasons += [f"{key} {stream.topic}: {problem}" for problem in problems]
    return reasons


def _status_problem(vehicle: VehicleView) -> str:
    if vehicle.status is VehicleStatus.STALE:
        return "stale: its token is there but no data arrives"
    return "offline: its liveliness token is gone"


def _stream_problems(
    stream: StreamView, expected_hz: float, lost: LostTotals, tolerance: float, starved: bool
) -> list[str]:
    """A stream's own problems; a starved source's low rate is the machine's (said once above)."""
    problems = []
    ratio = stream.rate_hz / expected_hz if expected_hz > 0 else math.nan
    if math.isnan(ratio):
        problems.append(f"no rate measured (expected {expected_hz:g} Hz)")
    elif abs(ratio - 1.0) > tolerance + 1e-9 and not (starved and ratio < 1.0):  # 0.95 is 0.050000000000000044 away
        problems.append(
            f"{stream.rate_hz:.1f} Hz is {ratio:.1%} of the expected {expected_hz:g} Hz "
            f"(allowed {1 - tolerance:.0%}..{1 + tolerance:.0%})"
        )
    for hop, count in lost._asdict().items():
        if count > 0:
            problems.append(f"lost {count} samples during the run {_HOPS[hop]}")
    return problems


def _number(value: float) -> float | None:
    """JSON has no NaN: unknown values are null."""
    return None if math.isnan(value) else round(value, 6)


def _stream_json(stream: StreamView, at_start: LostTotals | None) -> dict[str, Any]:
    during = LostTotals.of(stream).since(at_start)
    return {
        "topic": stream.topic,
        "ros_type": stream.ros_type,
        "rate_hz": _number(stream.rate_hz),
        "expected_hz": _number(stream.expected_hz),
        "rate_ratio": _number(stream.rate_ratio),
        "latency_p50_ms": _number(stream.latency_p50_ms),
        "latency_p90_ms": _number(stream.latency_p90_ms),
        "latency_p99_ms": _number(stream.latency_p99_ms),
        "latency_max_ms": _number(stream.latency_max_ms),
        "jitter_ms": _number(stream.jitter_ms),
        "received": stream.received,
        "lost": stream.lost,
        "lost_total": stream.lost_total,
        "lost_during_start": (at_start or LostTotals(0, 0, 0)).network,
        "lost_during_run": during.network,
        "source_rate_hz": _number(stream.source_rate_hz),
        "samples_per_message": _number(stream.samples_per_message),
        "lost_dds_during_run": during.dds,
        "dropped_bridge_during_run": during.bridge,
        "downsampled": stream.downsampled,
        "bytes_per_s": _number(stream.bytes_per_s),
        "stale": stream.stale,
    }


def fleet_json(
    view: FleetView, fleet: FleetConfig, duration_s: float, reasons: list[str], baseline: Baseline | None = None
) -> dict[str, Any]:
    baseline = baseline or {}
    saturated = saturated_sources(view, fleet)
    return {
        "config": fleet.source,
        "duration_s": duration_s,
        "ok": not reasons,
        "reasons": reasons,
        "machine_saturated": bool(saturated),
        "saturated_sources": [starved._asdict() for starved in saturated],
        "vehicles": [
            {
                "region": v.region,
                "vehicle": v.vehicle,
                "status": v.status.name.lower(),
                "clock_offset_ms": _number(v.clock_offset_ms),
                "bridge_cpu_share": _number(v.bridge_cpu_share),
                "bridge_largest_take": v.bridge_largest_take,
                "streams": [_stream_json(s, baseline.get((v.key, s.topic))) for s in v.streams],
            }
            for v in view.vehicles
        ],
    }
