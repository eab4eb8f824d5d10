"""The bridge's health report (msg/BridgeHealth): its per-stream counters and its own cost.

Built about once a second from the counters the forwarder keeps (telemetry.bridge.accounting)
and the process's CPU clock, so the aggregator can tell "the sensor published 930 Hz" from
"the pipeline lost 70", and an operator can see a bridge that runs out of CPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pycdr2 import IdlStruct

from telemetry.bridge.accounting import StreamCounters
from telemetry.codec import TypeStore
from telemetry.codec.names import BRIDGE_HEALTH, STREAM_HEALTH, TIME
from telemetry.codec.stamp import ns_to_stamp

__all__ = ["HealthReporter", "ProcessLoad"]


@dataclass
class ProcessLoad:
    """CPU share of this process between two reports: CPU seconds over wall seconds."""

    last_cpu_s: float
    last_wall_ns: int

    def share(self, cpu_s: float, wall_ns: int) -> float:
        elapsed_s = (wall_ns - self.last_wall_ns) / 1e9
        share = (cpu_s - self.last_cpu_s) / elapsed_s if elapsed_s > 0 else 0.0
        self.last_cpu_s, self.last_wall_ns = cpu_s, wall_ns
        return max(share, 0.0)


class HealthReporter:
    """Encodes one vehicle's BridgeHealth; resets the per-period maxima it reports."""

    def __init__(self, store: TypeStore, region: str, vehicle: str, started_ns: int, load: ProcessLoad) -> None:
        self._store = store
        self._region = region
        self._vehicle = vehicle
        self._started_ns = started_ns
        self._load = load
        self._health = store.factory(BRIDGE_HEALTH)
        self._stream = store.factory(STREAM_HEALTH)
        self._time = store.factory(TIME)

    def report(self, counters: Mapping[str, StreamCounters], cpu_s: float, now_ns: int) -> bytes:
        """The CDR bytes of this period's report (totals since start; maxima since the last report)."""
        streams = [self._stream_health(topic, c) for topic, c in counters.items()]
        message = self._health(
            stamp=self._stamp(now_ns),
            started=self._stamp(self._started_ns),
            region=self._region,
            vehicle=self._vehicle,
            cpu_share=self._load.share(cpu_s, now_ns),
            largest_take=max((c.largest_take for c in counters.values()), default=0),
            streams=streams,
        )
        for c in counters.values():
            c.largest_take = 0
        return self._store.encode(message)

    def _stream_health(self, topic: str, c: StreamCounters) -> IdlStruct:
        return self._stream(
            topic=topic, publishers=c.publishers, source_published=c.source_published, received=c.received,
            lost_dds=c.lost_dds, downsampled=c.downsampled, not_routed=c.not_routed, malformed=c.malformed,
            put_errors=c.put_errors, forwarded=c.forwarded, messages=c.messages, largest_take=c.largest_take,
        )

    def _stamp(self, ns: int) -> IdlStruct:
        sec, nanosec = ns_to_stamp(ns)
        return self._time(sec=sec, nanosec=nanosec)
