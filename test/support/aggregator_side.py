"""The aggregator as a test sees it: start the process, ask it for stats, decode what it answers.

Stats are read by query (`telemetry/stats/**`, `telemetry/fleet`), filtered by the replier's
Zenoh id, because two aggregators (a cloud-wide one and a `--region` one) publish on the
same stats keys; each aggregator prints its id in its ready line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import zenoh

from support.processes import ChildProcess, ProcessGroup, wait_until
from telemetry.codec import TypeStore

__all__ = [
    "AGGREGATOR_MODULE",
    "AggregatorProcess",
    "StatsReader",
    "bad_input_of",
    "start_aggregator",
    "stream_of",
]

AGGREGATOR_MODULE = "telemetry.aggregator.service"
VEHICLE_STATS = "telemetry/msg/VehicleStats"
FLEET_STATUS = "telemetry/msg/FleetStatus"
#: Zenoh's default consolidation keeps one reply per key: with two aggregators answering on
#: the same keys, the other one's answer would silently vanish.
_EVERY_REPLY = zenoh.ConsolidationMode.NONE


@dataclass(frozen=True)
class AggregatorProcess:
    process: ChildProcess
    zid: str


def start_aggregator(
    processes: ProcessGroup, endpoint: str, *args: str, name: str = "aggregator", timeout_s: float = 15.0
) -> AggregatorProcess:
    """`python -m telemetry.aggregator.service -e ENDPOINT args...`, once it printed its ready line."""
    process = processes.start_module(AGGREGATOR_MODULE, "-e", endpoint, *args, name=name)
    line = process.wait_for_line(lambda text: text.startswith("aggregator ") and text.endswith(" ready"), timeout_s)
    return AggregatorProcess(process, line.split()[1])


def stream_of(vehicle_stats: Any, topic: str) -> Any:
    """The StreamStats of `topic` in a decoded VehicleStats (AssertionError naming what exists)."""
    for stream in vehicle_stats.streams:
        if stream.topic == topic:
            return stream
    raise AssertionError(
        f"{vehicle_stats.region}/{vehicle_stats.vehicle}: no stream {topic!r} "
        f"(has {[s.topic for s in vehicle_stats.streams]})"
    )


def bad_input_of(vehicle_stats: Any) -> dict[str, int]:
    return {entry.kind: int(entry.count) for entry in vehicle_stats.bad_input}


class StatsReader:
    """Queries one aggregator's latest VehicleStats and FleetStatus and decodes them."""

    def __init__(self, session: zenoh.Session, aggregator_zid: str, store: TypeStore | None = None) -> None:
        self._session = session
        self._zid = aggregator_zid
        self._store = store or TypeStore.from_environment()
        self.last: dict[tuple[str, str], Any] = {}

    def vehicles(self, selector: str = "telemetry/stats/**") -> dict[tuple[str, str], Any]:
        """(region, vehicle) -> decoded VehicleStats, from this aggregator's answers only."""
        found: dict[tuple[str, str], Any] = {}
        for reply in self._session.get(selector, timeout=2.0, consolidation=_EVERY_REPLY):
            if reply.ok is None or _replier(reply) != self._zid:
                continue
            stats = self._store.decode(VEHICLE_STATS, reply.ok.payload.to_bytes())
            found[(stats.region, stats.vehicle)] = stats
        self.last = found
        return found

    def repliers(self, selector: str) -> dict[str, list[str]]:
        """replier id -> keys it answered `selector` with (every aggregator's answers)."""
        answered: dict[str, list[str]] = {}
        for reply in self._session.get(selector, timeout=2.0, consolidation=_EVERY_REPLY):
            if reply.ok is not None:
                answered.setdefault(_replier(reply), []).append(str(reply.ok.key_expr))
        return answered

    def fleet(self) -> Any | None:
        """This aggregator's FleetStatus, or None if it did not answer."""
        for reply in self._session.get("telemetry/fleet", timeout=2.0, consolidation=_EVERY_REPLY):
            if reply.ok is not None and _replier(reply) == self._zid:
                return self._store.decode(FLEET_STATUS, reply.ok.payload.to_bytes())
        return None

    def wait_for(
        self, condition: Callable[[dict[tuple[str, str], Any]], object], timeout_s: float, interval_s: float = 0.25
    ) -> dict[tuple[str, str], Any]:
        """Poll until `condition(vehicles)` returns without raising AssertionError or KeyError
        (and not False); fails with the last reason and the last stats seen."""
        reason = ["never evaluated"]

        def holds() -> bool:
            try:
                if condition(self.vehicles()) is False:
                    reason[0] = "condition returned False"
                    return False
                return True
            except (AssertionError, KeyError) as error:
                reason[0] = f"{type(error).__name__}: {error}"
                return False

        if not wait_until(holds, timeout_s, interval_s):
            raise AssertionError(f"not met within {timeout_s} s: {reason[0]}\nlast stats:\n{describe(self.last)}")
        return self.last


def describe(vehicles: dict[tuple[str, str], Any]) -> str:
    """A readable dump of decoded VehicleStats, for failure messages."""
    lines = []
    for (region, vehicle), stats in sorted(vehicles.items()):
        lines.append(
            f"{region}/{vehicle}: status {stats.status} offset {stats.clock_offset_ms:.3f} ms bad {bad_input_of(stats)}"
        )
        for s in stats.streams:
            lines.append(
                f"  {s.topic}: rate {s.rate_hz:.1f}/{s.expected_hz} Hz window {s.window_s:.2f} s "
                f"p50 {s.latency_p50_ms:.3f} corr {s.corrected_latency_p50_ms:.3f} ms "
                f"recv {s.received}/{s.received_total} lost {s.lost}/{s.lost_total} resets {s.restarts_total} "
                f"stale {s.stale}"
            )
    return "\n".join(lines) or "(none)"


def _replier(reply: Any) -> str:
    """The Zenoh id of the session that answered (what its ready line printed)."""
    replier = reply.replier_id
    return "" if replier is None else str(replier.zid)
