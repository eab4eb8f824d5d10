"""Judge a headless demo run and write it down: every stream at its rate, nothing lost.

Pure: a `FleetView` and the fleet config in, reasons and JSON-ready data out, so the rule
(within 5 % of the expected rate, no loss, every vehicle online) is tested without a fleet.

Loss is counted from the moment the fleet was up (`baseline`: each stream's lost_total
then). While routes are still being set up, Zenoh drops what it cannot route yet (the
bridge counts it as not routed); that start-up loss is reported in the JSON but is not a
failure of the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from telemetry.config import FleetConfig
from telemetry.dashboard.view import FleetView, StreamView, VehicleView
from telemetry.fleet.status import VehicleStatus

__all__ = ["RATE_TOLERANCE", "Baseline", "baseline_of", "fleet_json", "judge"]

RATE_TOLERANCE = 0.05
#: Stats come every 0.5 s: older than this, the aggregator stopped publishing (or is cut off).
STATS_TOO_OLD_S = 3.0

Baseline = dict[tuple[str, str], int]  # ("<region>/<vehicle>", topic) -> lost_total when the fleet was up


def baseline_of(view: FleetView) -> Baseline:
    return {(v.key, s.topic): s.lost_total for v in view.vehicles for s in v.streams}


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
        for stream_config in vehicle_config.streams:
            stream = streams.get(stream_config.topic)
            if stream is None:
                reasons.append(f"{key} {stream_config.topic}: no stats (nothing arrived)")
                continue
            expected_hz = stream.expected_hz if not math.isnan(stream.expected_hz) else stream_config.forwarded_rate_hz
            lost = stream.lost_total - (baseline or {}).get((key, stream.topic), 0)
            problems = _stream_problems(stream, expected_hz, lost, tolerance)
            reasons += [f"{key} {stream.topic}: {problem}" for problem in problems]
    return reasons


def _status_problem(vehicle: VehicleView) -> str:
    if vehicle.status is VehicleStatus.STALE:
        return "stale: its token is there but no data arrives"
    return "offline: its liveliness token is gone"


def _stream_problems(stream: StreamView, expected_hz: float, lost: int, tolerance: float) -> list[str]:
    problems = []
    ratio = stream.rate_hz / expected_hz if expected_hz > 0 else math.nan
    if math.isnan(ratio):
        problems.append(f"no rate measured (expected {expected_hz:g} Hz)")
    elif abs(ratio - 1.0) > tolerance + 1e-9:  # 0.95 is 0.050000000000000044 away from 1.0
        problems.append(
            f"{stream.rate_hz:.1f} Hz is {ratio:.1%} of the expected {expected_hz:g} Hz "
            f"(allowed {1 - tolerance:.0%}..{1 + tolerance:.0%})"
        )
    if lost > 0:
        problems.append(f"lost {lost} samples during the run")
    return problems


def _number(value: float) -> float | None:
    """JSON has no NaN: unknown values are null."""
    return None if math.isnan(value) else round(value, 6)


def _stream_json(stream: StreamView, lost_at_start: int) -> dict[str, Any]:
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
        "lost_during_start": lost_at_start,
        "lost_during_run": stream.lost_total - lost_at_start,
        "bytes_per_s": _number(stream.bytes_per_s),
        "stale": stream.stale,
    }


def fleet_json(
    view: FleetView, fleet: FleetConfig, duration_s: float, reasons: list[str], baseline: Baseline | None = None
) -> dict[str, Any]:
    baseline = baseline or {}
    return {
        "config": fleet.source,
        "duration_s": duration_s,
        "ok": not reasons,
        "reasons": reasons,
        "vehicles": [
            {
                "region": v.region,
                "vehicle": v.vehicle,
                "status": v.status.name.lower(),
                "clock_offset_ms": _number(v.clock_offset_ms),
                "streams": [_stream_json(s, baseline.get((v.key, s.topic), 0)) for s in v.streams],
            }
            for v in view.vehicles
        ],
    }
