"""Alerts: what went wrong and when, raised on the edge of a condition, not on every refresh.

A condition (a stream under its rate, p99 over the threshold, loss, a vehicle stale or
offline) raises one alert when it starts and one INFO alert when it clears, so a stream that
stays slow for an hour gives two lines, not seven thousand. Stream conditions are judged only
while the vehicle is online: a vehicle that went offline is one alert, not one per stream.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from telemetry.config import AlertThresholds
from telemetry.dashboard.view import Alert, AlertLevel, StreamView, VehicleView
from telemetry.fleet.status import VehicleStatus

__all__ = ["AlertTracker", "stream_ok"]


def stream_ok(stream: StreamView, thresholds: AlertThresholds) -> bool:
    """Not stale and at `min_rate_ratio` of its expected rate or more (any rate when none is known)."""
    if stream.stale:
        return False
    return math.isnan(stream.rate_ratio) or stream.rate_ratio >= thresholds.min_rate_ratio


@dataclass(frozen=True, slots=True)
class _Condition:
    vehicle: str
    topic: str
    kind: str  # "rate", "latency", or one of the loss kinds: "loss" (network), "loss_dds", "loss_bridge"


class AlertTracker:
    """Compares each refresh with the conditions active before it; keeps the newest `limit` alerts."""

    def __init__(self, thresholds: AlertThresholds, limit: int = 500) -> None:
        self.thresholds = thresholds
        self._alerts: deque[Alert] = deque(maxlen=limit)
        self._active: dict[_Condition, str] = {}
        self._status: dict[str, tuple[VehicleStatus, int]] = {}  # key -> (status, seen since)

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Newest first."""
        return tuple(reversed(self._alerts))

    def observe(self, vehicles: Iterable[VehicleView], now_ns: int) -> list[Alert]:
        """Raise the alerts that `vehicles`, seen at `now_ns`, imply; returns the new ones."""
        new: list[Alert] = []
        for vehicle in vehicles:
            new += self._vehicle_status(vehicle, now_ns)
            if vehicle.status is VehicleStatus.ONLINE:
                new += self._streams(vehicle, now_ns)
            else:  # its streams' conditions are the vehicle's, already said once
                self._forget_streams(vehicle.key)
        self._alerts.extend(new)
        return new

    def _vehicle_status(self, vehicle: VehicleView, now_ns: int) -> list[Alert]:
        before, since_ns = self._status.get(vehicle.key, (None, now_ns))
        if before is vehicle.status:
            return []
        self._status[vehicle.key] = (vehicle.status, now_ns)
        if vehicle.status is VehicleStatus.OFFLINE:
            return [Alert(now_ns, AlertLevel.ERROR, vehicle.key, "", "offline: liveliness token gone")]
        if vehicle.status is VehicleStatus.STALE:
            return [Alert(now_ns, AlertLevel.WARNING, vehicle.key, "", "stale: token present, no data arriving")]
        if before is None:  # first seen, and online: nothing went wrong
            return []
        away = f"{(now_ns - since_ns) / 1e9:.1f} s {before.name.lower()}"
        return [Alert(now_ns, AlertLevel.INFO, vehicle.key, "", f"back online after {away}")]

    def _streams(self, vehicle: VehicleView, now_ns: int) -> list[Alert]:
        new: list[Alert] = []
        seen: set[_Condition] = set()
        for stream in vehicle.streams:
            for kind, problem in self._problems(stream):
                condition = _Condition(vehicle.key, stream.topic, kind)
                seen.add(condition)
                if condition not in self._active:
                    level = AlertLevel.ERROR if kind.startswith("loss") else AlertLevel.WARNING
                    new.append(Alert(now_ns, level, vehicle.key, stream.topic, problem))
                self._active[condition] = problem
        topics = {stream.topic for stream in vehicle.streams}
        for condition in [c for c in self._active if c.vehicle == vehicle.key and c not in seen]:
            del self._active[condition]
            if condition.topic in topics:  # a stream the aggregator stopped reporting did not recover
                new.append(Alert(now_ns, AlertLevel.INFO, vehicle.key, condition.topic, _recovered(condition.kind)))
        return new

    def _problems(self, stream: StreamView) -> list[tuple[str, str]]:
        limits = self.thresholds
        problems: list[tuple[str, str]] = []
        if math.isnan(stream.rate_ratio):
            if stream.stale:
                problems.append(("rate", "stale: no samples arriving"))
        elif stream.stale or stream.rate_ratio < limits.min_rate_ratio:
            problems.append((
                "rate",
                f"rate {stream.rate_hz:.4g} Hz is {stream.rate_ratio:.0%} of {stream.expected_hz:.4g} Hz "
                f"(alert below {limits.min_rate_ratio:.0%})",
            ))
        if not math.isnan(stream.latency_p99_ms) and stream.latency_p99_ms > limits.max_latency_p99_ms:
            problems.append((
                "latency",
                f"p99 latency {stream.latency_p99_ms:.3g} ms over {limits.max_latency_p99_ms:g} ms",
            ))
        # Loss names its hop: the fix differs (a faster machine or a deeper DDS queue, the
        # bridge's log, the network).
        if stream.lost_dds > 0:
            problems.append((
                "loss_dds",
                f"lost {stream.lost_dds} between the sensor and the bridge in the last {stream.window_s:g} s",
            ))
        if stream.dropped_bridge > 0:
            problems.append((
                "loss_bridge",
                f"the bridge dropped {stream.dropped_bridge} in the last {stream.window_s:g} s "
                "(not routed, malformed or refused by Zenoh: see its log)",
            ))
        if stream.lost > 0:
            problems.append((
                "loss",
                f"lost {stream.lost} samples ({stream.loss_pct:.2g} %) in the last {stream.window_s:g} s, "
                "between the bridge and the aggregator",
            ))
        return problems

    def forget(self, vehicle_key: str) -> None:
        """Drop what is remembered of a vehicle that left the fleet view."""
        self._status.pop(vehicle_key, None)
        self._forget_streams(vehicle_key)

    def _forget_streams(self, vehicle_key: str) -> None:
        for condition in [c for c in self._active if c.vehicle == vehicle_key]:
            del self._active[condition]


def _recovered(kind: str) -> str:
    return {"rate": "rate back to normal", "latency": "p99 latency back under threshold", "loss": "no more loss",
            "loss_dds": "no more loss before the bridge", "loss_bridge": "the bridge drops no more"}[kind]
