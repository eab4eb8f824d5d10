"""The bridges' own counters over a measured window: samples lost before the bridge.

The probe sees only what the bridge forwarded: a sample the DDS reader's queue dropped
(full while the bridge slept through its budget, or woke late) never got a sequence
number, so it is no gap at the probe, only a lower rate. Each bridge reports its totals
about once a second (msg/BridgeHealth); the difference between the last report at or
before the window's start and the last one before its end is what that hop lost in a
span as long as the window (shifted by up to a report period). The callback only records;
reports are decoded with the aggregator's decoder and differenced with its pure
telemetry.fleet.hops, so the bench and the dashboard count the same way.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import zenoh

from telemetry.aggregator.health import decode_health
from telemetry.aggregator.ingest import HealthReport
from telemetry.codec import TypeStore
from telemetry.errors import CodecError, KeyExprError
from telemetry.fleet.hops import HopCounts, HopStats, hop_stats
from telemetry.keys import KeyKind, KeySpace

__all__ = ["HealthWatch"]


class HealthWatch:
    """Subscribes every bridge's health key; `hops()` gives each stream's hop counts, by data key."""

    def __init__(self, session: zenoh.Session, keys: KeySpace, store: TypeStore | None = None) -> None:
        self._session = session
        self._keys = keys
        self._store = store or TypeStore.from_environment()
        self._lock = threading.Lock()
        self._reports: list[tuple[str, int, bytes]] = []
        self._subscriber: Any = None

    def __enter__(self) -> HealthWatch:
        self._subscriber = self._session.declare_subscriber(self._keys.selector(KeyKind.HEALTH), self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._subscriber is not None:
            self._subscriber.undeclare()

    def hops(self, start_ns: int, end_ns: int) -> dict[str, HopStats]:
        """Each stream's hops over [start_ns, end_ns] (time.time_ns), by its data key; a report
        that does not decode is skipped (the aggregator counts those)."""
        with self._lock:
            reports = [r for r in self._reports if r[1] <= end_ns]
        by_stream: dict[str, list[HopCounts]] = {}
        for key, receive_ns, payload in reports:
            try:
                parsed = self._keys.parse(key)
                if parsed.region is None or parsed.vehicle is None:
                    continue
                _, counts = decode_health(self._store, HealthReport(parsed.region, parsed.vehicle, receive_ns, payload))
            except (KeyExprError, CodecError):
                continue
            for topic, hop in counts.items():
                by_stream.setdefault(self._keys.data(parsed.region, parsed.vehicle, topic), []).append(hop)
        return {key: hop_stats(hops, end_ns, end_ns - start_ns) for key, hops in sorted(by_stream.items())}

    def _record(self, sample: zenoh.Sample) -> None:
        record = (str(sample.key_expr), time.time_ns(), sample.payload.to_bytes())
        with self._lock:
            self._reports.append(record)
