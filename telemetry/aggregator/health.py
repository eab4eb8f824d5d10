"""The bridges' health reports (msg/BridgeHealth), decoded into per-stream hop counters.

A report that does not decode is bad input from its vehicle (counted, never a crash); one
that does becomes one `HopCounts` per stream, kept per vehicle for the window
(telemetry.fleet.hops), plus the bridge's own load (CPU share, busiest wake-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telemetry.aggregator.ingest import HealthReport
from telemetry.codec import TypeStore
from telemetry.codec.names import BRIDGE_HEALTH
from telemetry.codec.stamp import stamp_to_ns
from telemetry.errors import CodecError
from telemetry.fleet.hops import HopCounts, keep_for_window

__all__ = ["BridgeLoad", "VehicleHealth", "decode_health"]


@dataclass(frozen=True)
class BridgeLoad:
    """What the bridge said of itself in its latest report."""

    cpu_share: float
    largest_take: int


@dataclass
class VehicleHealth:
    """One vehicle's recent reports: per topic, those the window still needs."""

    load: BridgeLoad | None = None
    streams: dict[str, list[HopCounts]] = field(default_factory=dict)

    def add(self, load: BridgeLoad, counts: dict[str, HopCounts], now_ns: int, window_ns: int) -> None:
        self.load = load
        for topic, hop in counts.items():
            self.streams[topic] = keep_for_window([*self.streams.get(topic, []), hop], now_ns, window_ns)

    def reports(self, topic: str) -> list[HopCounts]:
        return self.streams.get(topic, [])


def decode_health(store: TypeStore, report: HealthReport) -> tuple[BridgeLoad, dict[str, HopCounts]]:
    """The load and per-topic counters of one report; CodecError naming the vehicle if it is bad."""
    try:
        message = store.decode(BRIDGE_HEALTH, report.payload)
        started_ns = stamp_to_ns(int(message.started.sec), int(message.started.nanosec))
        counts = {
            str(s.topic): HopCounts(
                at_ns=report.receive_ns, started_ns=started_ns, publishers=int(s.publishers),
                source_published=int(s.source_published), received=int(s.received), lost_dds=int(s.lost_dds),
                downsampled=int(s.downsampled), dropped=int(s.not_routed) + int(s.malformed) + int(s.put_errors),
                forwarded=int(s.forwarded), messages=int(s.messages),
            )
            for s in message.streams
        }
        return BridgeLoad(float(message.cpu_share), int(message.largest_take)), counts
    except CodecError as error:
        raise CodecError(f"{report.region}/{report.vehicle}: {error}") from None
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise CodecError(f"{report.region}/{report.vehicle}: not a {BRIDGE_HEALTH}: {error}") from None
