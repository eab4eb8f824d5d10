"""An aggregator engine driven tick by tick from hand-made arrivals, with its output decoded.

Tests feed `Drained` records as the service would (`support.engine_input` builds them) and
read the VehicleStats / FleetStatus CDR each snapshot returns through the project's own
decoder, so what they check is what goes on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from support.engine_input import SECOND, Arrivals, batch_inbox, batch_payload, data_inbox, drained
from telemetry.aggregator.engine import EngineSettings, FleetEngine, Snapshot
from telemetry.aggregator.prober import Catalogue
from telemetry.codec import TypeStore
from telemetry.fleet.clock import ClockEstimate
from telemetry.fleet.vehicle_key import VehicleKey

__all__ = ["EU", "ROVER", "TICK", "TRUCK", "US", "WINDOW_S", "Run", "Stream", "bad_input"]

TICK = SECOND // 2
WINDOW_S = 5.0
EU, US = "eu-west", "us-east"
ROVER, TRUCK = "rover-01", "truck-01"

Stream = tuple[str, str, str]  # region, vehicle, topic


class Run:
    """An engine driven tick by tick from hand-made arrivals, with its decoded output."""

    def __init__(
        self,
        store: TypeStore,
        *,
        evict_after_s: float = 600.0,
        expected_hz: Mapping[Stream, float] | None = None,
        clock: ClockEstimate | None = None,
    ) -> None:
        self.store = store
        self.engine = FleetEngine(store, EngineSettings(WINDOW_S, evict_after_s, dict(expected_hz or {})))
        self.catalogues: dict[tuple[str, str], Catalogue] = {}
        self.clock = clock
        self.snapshots: list[Snapshot] = []

    def token(self, region: str, vehicle: str, alive: bool, at_ns: int) -> None:
        self.engine.ingest(drained(presence=[(region, vehicle, alive, at_ns)]), at_ns)

    def ticks(
        self, streams: Mapping[Stream, Arrivals], start_ns: int, end_ns: int, *, batched: bool = False
    ) -> Snapshot:
        """Ingest what arrived in each tick [t - TICK, t) for t in (start, end], snapshot at each t."""
        for now_ns in range(start_ns + TICK, end_ns + 1, TICK):
            inboxes = []
            for (region, vehicle, topic), samples in streams.items():
                due = samples.between(now_ns - TICK, now_ns)
                if not due.sequence.size:
                    continue
                if batched:
                    payload = batch_payload(self.store, due, int(due.receive_ns[-1]))
                    inboxes.append(batch_inbox(region, vehicle, topic, [(int(due.receive_ns[-1]), payload)]))
                else:
                    inboxes.append(data_inbox(region, vehicle, topic, due))
            self.engine.ingest(drained(*inboxes), now_ns)
            self.snapshots.append(self.snapshot(now_ns))
        return self.snapshots[-1]

    def snapshot(self, now_ns: int) -> Snapshot:
        return self.engine.snapshot(now_ns, lambda r, v: self.catalogues.get((r, v)), lambda r, v: self.clock)

    def vehicle(self, snapshot: Snapshot, region: str, vehicle: str) -> Any:
        return self.store.decode("telemetry/msg/VehicleStats", snapshot.vehicle_stats[VehicleKey(region, vehicle)])

    def stream(self, snapshot: Snapshot, region: str, vehicle: str, topic: str) -> Any:
        (found,) = [s for s in self.vehicle(snapshot, region, vehicle).streams if s.topic == topic]
        return found

    def fleet(self, snapshot: Snapshot) -> Any:
        return self.store.decode("telemetry/msg/FleetStatus", snapshot.fleet_status)


def bad_input(stats: Any) -> dict[str, int]:
    return {entry.kind: entry.count for entry in stats.bad_input}
