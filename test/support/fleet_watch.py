"""Watching a running fleet from a test: the aggregator's published stats over time, and the
sequence numbers of one data stream, each stamped with its arrival time.

Both recorders' callbacks only append (bytes and ints, decoded later by the test), so a
1 kHz stream costs the test process little and a fault's timeline can be read afterwards:
when the aggregator said what, and when data came back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import zenoh

from support.aggregator_side import describe, stream_of
from telemetry.codec import TypeStore
from telemetry.codec.attachment import ATTACHMENT_STRUCT
from telemetry.codec.batch import batch_head, is_batch, read_batch
from telemetry.fleet.status import VehicleStatus

__all__ = ["SequenceRecorder", "StatsSample", "StatsTimeline", "at_rate", "fresh", "status_runs"]

VEHICLE_STATS = "telemetry/msg/VehicleStats"


@dataclass(frozen=True)
class StatsSample:
    """One VehicleStats message as it arrived (`arrival_ns`: time.monotonic_ns())."""

    arrival_ns: int
    stats: Any  # the decoded telemetry/msg/VehicleStats

    @property
    def status(self) -> VehicleStatus:
        return VehicleStatus(self.stats.status)

    def stream(self, topic: str) -> Any:
        """The StreamStats of `topic` (AssertionError naming the streams there are)."""
        return stream_of(self.stats, topic)

    def find(self, topic: str) -> Any | None:
        """The StreamStats of `topic`, or None before the aggregator has seen that stream."""
        return next((stream for stream in self.stats.streams if stream.topic == topic), None)


class _Subscription:
    """A subscriber on one key for the length of a `with` block; `_record` only records."""

    def __init__(self, session: zenoh.Session, key: str) -> None:
        self._session = session
        self._key = key
        self._subscriber: Any = None

    def __enter__(self) -> Self:
        self._subscriber = self._session.declare_subscriber(self._key, self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._subscriber.undeclare()

    def _record(self, sample: zenoh.Sample) -> None:
        raise NotImplementedError


class StatsTimeline(_Subscription):
    """Records every stats message on `key` (one vehicle's `telemetry/stats/<region>/<vehicle>`)."""

    def __init__(self, session: zenoh.Session, key: str, store: TypeStore) -> None:
        super().__init__(session, key)
        self._store = store
        self._raw: list[tuple[int, bytes]] = []
        self._decoded: list[StatsSample] = []
        self._lock = threading.Lock()

    def _record(self, sample: zenoh.Sample) -> None:
        self._raw.append((time.monotonic_ns(), sample.payload.to_bytes()))

    def payloads(self, since_ns: int = 0) -> list[bytes]:
        """The raw bytes of every message that arrived at or after `since_ns` (for the dashboard's decoder)."""
        return [payload for arrival_ns, payload in list(self._raw) if arrival_ns >= since_ns]

    def samples(self, since_ns: int = 0, until_ns: int | None = None) -> list[StatsSample]:
        """Every message that arrived in [since_ns, until_ns), decoded (each once)."""
        with self._lock:
            for arrival_ns, payload in self._raw[len(self._decoded):]:
                self._decoded.append(StatsSample(arrival_ns, self._store.decode(VEHICLE_STATS, payload)))
            decoded = list(self._decoded)
        return [s for s in decoded if s.arrival_ns >= since_ns and (until_ns is None or s.arrival_ns < until_ns)]

    def wait_for(self, condition: Callable[[StatsSample], bool], timeout_s: float, since_ns: int = 0,
                 what: str = "the condition") -> StatsSample:
        """The first message since `since_ns` for which `condition` holds; fails after `timeout_s`
        with the last message seen."""
        deadline = time.monotonic() + timeout_s
        checked = 0
        while True:
            arrived = self.samples(since_ns)
            for sample in arrived[checked:]:
                if condition(sample):
                    return sample
            checked = len(arrived)
            if time.monotonic() > deadline:
                last = describe({("", ""): arrived[-1].stats}) if arrived else "(no stats at all)"
                raise AssertionError(f"no stats on {self._key} showed {what} within {timeout_s} s; last:\n{last}")
            time.sleep(0.05)


def fresh(sample: StatsSample, topic: str = "/imu") -> bool:
    """The vehicle online and `topic` arriving (its rate over the window may still be catching up)."""
    stream = sample.find(topic)
    return sample.status is VehicleStatus.ONLINE and stream is not None and not stream.stale


def at_rate(sample: StatsSample, topic: str = "/imu", tolerance: float = 0.05) -> bool:
    """`fresh`, and `topic` within `tolerance` of its expected rate over the whole window."""
    if not fresh(sample, topic):
        return False
    stream = sample.find(topic)
    assert stream is not None  # fresh() found it
    ratio: float = stream.rate_hz / stream.expected_hz
    return abs(ratio - 1) <= tolerance


def status_runs(samples: list[StatsSample]) -> list[str]:
    """The statuses in the order they were published, repeats collapsed: ['ONLINE', 'OFFLINE', 'ONLINE']."""
    runs: list[str] = []
    for sample in samples:
        if not runs or runs[-1] != sample.status.name:
            runs.append(sample.status.name)
    return runs


class SequenceRecorder(_Subscription):
    """Records (arrival time.monotonic_ns(), sequence number) of every sample of one stream,
    alone or in a SampleBatch (a batch is kept whole and read when asked)."""

    def __init__(self, session: zenoh.Session, key: str, store: TypeStore | None = None) -> None:
        super().__init__(session, key)
        self._store = store or TypeStore.from_environment()
        self._arrivals: list[tuple[int, int | bytes]] = []  # a sequence, or a batch to read later

    def _record(self, sample: zenoh.Sample) -> None:
        attachment = sample.attachment
        if attachment is not None:
            # A struct peek at the sequence field, nothing more (telemetry.codec.attachment's layout).
            self._arrivals.append((time.monotonic_ns(), ATTACHMENT_STRUCT.unpack_from(attachment.to_bytes())[2]))
        elif is_batch(str(sample.encoding)):
            self._arrivals.append((time.monotonic_ns(), sample.payload.to_bytes()))

    def arrivals(self, since_ns: int = 0, until_ns: int | None = None) -> list[tuple[int, int]]:
        """(arrival_ns, sequence) of the samples that arrived in [since_ns, until_ns)."""
        found: list[tuple[int, int]] = []
        for at, value in list(self._arrivals):
            if at < since_ns or (until_ns is not None and at >= until_ns):
                continue
            if isinstance(value, int):
                found.append((at, value))
            else:
                head, size = batch_head(value)
                found += [(at, int(seq)) for seq in read_batch(self._store, head, size).sequence]
        return found

    def last(self) -> tuple[int, int] | None:
        arrivals = self.arrivals(self._arrivals[-1][0]) if self._arrivals else []
        return arrivals[-1] if arrivals else None

    def wait_for_sample(self, since_ns: int, timeout_s: float) -> tuple[int, int] | None:
        """The first sample that arrived at or after `since_ns`, waiting up to `timeout_s` for it."""
        deadline = time.monotonic() + timeout_s
        while True:
            later = self.arrivals(since_ns)
            if later:
                return later[0]
            if time.monotonic() > deadline:
                return None
            time.sleep(0.005)
