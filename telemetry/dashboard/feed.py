"""The dashboard's Zenoh subscriptions: stats, fleet summaries, liveliness and the recorders'
status, recorded raw.

Callbacks only store bytes and a receive time (the latest per stats key, a bounded queue of
the rest) and return; decoding happens on the dashboard's own refresh, off Zenoh's threads.
The dashboard never subscribes to telemetry/data: a few hundred stats messages a second is
all it reads, however fast the fleet publishes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import zenoh

from telemetry.keys import KeyKind, KeySpace
from telemetry.net.declarations import undeclare_all

__all__ = ["FeedRecords", "FleetFeed"]

#: More distinct stats keys than any fleet has: beyond it, new keys are dropped and counted,
#: so a rogue publisher inventing names cannot grow the dashboard's memory.
MAX_STATS_KEYS = 20_000
MAX_QUEUED_EVENTS = 100_000


@dataclass
class FeedRecords:
    """What arrived since the last `take()`."""

    stats: dict[str, tuple[bytes, str, int]] = field(default_factory=dict)  # key -> (payload, encoding, ns)
    fleet: list[tuple[str, bytes, str, int]] = field(default_factory=list)  # (key, payload, encoding, ns)
    liveliness: list[tuple[str, bool, int]] = field(default_factory=list)  # (key, alive, ns)
    recorders: dict[str, tuple[bytes, str, int]] = field(default_factory=dict)  # key -> (payload, encoding, ns)
    dropped: int = 0


class FleetFeed:
    """Owns the dashboard's subscribers on one session; `take()` hands over what they recorded."""

    def __init__(self, session: zenoh.Session, keys: KeySpace) -> None:
        self._session = session
        self._keys = keys
        self._lock = threading.Lock()
        self._records = FeedRecords()
        self._fleet: deque[tuple[str, bytes, str, int]] = deque(maxlen=1_000)
        self._liveliness: deque[tuple[str, bool, int]] = deque(maxlen=MAX_QUEUED_EVENTS)
        self._declared: list[Any] = []

    def declare(self) -> FleetFeed:
        keys, session = self._keys, self._session
        self._declared += [
            session.declare_subscriber(keys.selector(KeyKind.STATS), self._on_stats),
            session.declare_subscriber(keys.fleet(), self._on_fleet),
            session.declare_subscriber(keys.selector(KeyKind.RECORDER), self._on_recorder),
            session.liveliness().declare_subscriber(
                keys.selector(KeyKind.ALIVE), self._on_liveliness, history=True
            ),
        ]
        return self

    def take(self) -> FeedRecords:
        with self._lock:
            records, self._records = self._records, FeedRecords()
            records.fleet, records.liveliness = list(self._fleet), list(self._liveliness)
            self._fleet.clear()
            self._liveliness.clear()
        return records

    def close(self) -> None:
        undeclare_all(self._declared)

    def _on_stats(self, sample: zenoh.Sample) -> None:
        key, now_ns = str(sample.key_expr), time.time_ns()
        record = (sample.payload.to_bytes(), str(sample.encoding), now_ns)
        with self._lock:
            stats = self._records.stats
            if key in stats or len(stats) < MAX_STATS_KEYS:
                stats[key] = record
            else:
                self._records.dropped += 1

    def _on_recorder(self, sample: zenoh.Sample) -> None:
        key, record = str(sample.key_expr), (sample.payload.to_bytes(), str(sample.encoding), time.time_ns())
        with self._lock:
            recorders = self._records.recorders
            if key in recorders or len(recorders) < 100:
                recorders[key] = record
            else:
                self._records.dropped += 1

    def _on_fleet(self, sample: zenoh.Sample) -> None:
        record = (str(sample.key_expr), sample.payload.to_bytes(), str(sample.encoding), time.time_ns())
        with self._lock:
            self._fleet.append(record)

    def _on_liveliness(self, sample: zenoh.Sample) -> None:
        record = (str(sample.key_expr), sample.kind == zenoh.SampleKind.PUT, time.time_ns())
        with self._lock:
            self._liveliness.append(record)
