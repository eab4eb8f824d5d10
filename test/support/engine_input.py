"""Hand-made aggregator input: what `Ingest.drain()` would hand the engine, without Zenoh.

`arrivals` builds one stream's columns with known answers (rate, latency, gaps); `data_inbox`
and `batch_inbox` pack them the way the Zenoh callbacks do (raw attachment bytes, or whole
SampleBatch payloads); `FakeSample` stands in for a zenoh.Sample where a test or a benchmark
calls the `Ingest` callbacks directly.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from telemetry.aggregator.ingest import Drained, Inbox
from telemetry.bridge.batcher import SampleBatcher
from telemetry.codec import TypeStore
from telemetry.codec.attachment import ATTACHMENT_DTYPE, ATTACHMENT_VERSION, FLAG_STAMP_FROM_HEADER
from telemetry.codec.batch import batch_head
from telemetry.codec.names import SAMPLE_BATCH
from telemetry.fleet.vehicle_key import VehicleKey
from telemetry.keys import KeySpace

__all__ = [
    "IMU",
    "MS",
    "SECOND",
    "T0",
    "Arrivals",
    "FakeBytes",
    "FakeSample",
    "arrivals",
    "attachment_bytes",
    "batch_inbox",
    "batch_payload",
    "data_inbox",
    "drained",
]

MS = 1_000_000
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND  # a realistic epoch: int64 arithmetic is exercised
IMU = "sensor_msgs/msg/Imu"
_KEYS = KeySpace()


class Arrivals(NamedTuple):
    """One stream's samples in arrival order (aggregator clock for receive, vehicle clock for source)."""

    receive_ns: npt.NDArray[np.int64]
    source_ns: npt.NDArray[np.int64]
    sequence: npt.NDArray[np.uint64]
    size: npt.NDArray[np.int64]

    def between(self, start_ns: int, end_ns: int) -> Arrivals:
        """The samples received in [start_ns, end_ns): one tick's worth."""
        return self.select((self.receive_ns >= start_ns) & (self.receive_ns < end_ns))

    def select(self, keep: npt.NDArray[np.bool_] | slice) -> Arrivals:
        """The samples `keep` picks (a mask or a slice), in the same order."""
        return Arrivals(self.receive_ns[keep], self.source_ns[keep], self.sequence[keep], self.size[keep])


def arrivals(
    hz: float,
    seconds: float,
    *,
    start_ns: int = T0,
    latency_ns: int = 300_000,
    first_sequence: int = 1,
    size: int = 316,
    drop_every: int = 0,
    clock_shift_ns: int = 0,
) -> Arrivals:
    """A perfect stream: sample k received at start + k/hz, sent `latency_ns` earlier on a
    vehicle clock `clock_shift_ns` ahead; sequences that are multiples of `drop_every` missing."""
    count = round(hz * seconds)
    receive_ns = start_ns + np.round(np.arange(count) * (SECOND / hz)).astype(np.int64)
    sequence = np.arange(first_sequence, first_sequence + count, dtype=np.uint64)
    if drop_every:
        keep = sequence % np.uint64(drop_every) != 0
        receive_ns, sequence = receive_ns[keep], sequence[keep]
    source_ns = receive_ns - latency_ns + clock_shift_ns
    return Arrivals(receive_ns, source_ns, sequence, np.full(receive_ns.size, size, np.int64))


def attachment_bytes(
    sequence: Iterable[int] | npt.NDArray[np.uint64],
    source_ns: npt.ArrayLike,
    version: int | npt.ArrayLike = ATTACHMENT_VERSION,
) -> bytes:
    """Version-1 attachments of these samples, back to back, as the data callback stores them."""
    sequence = np.asarray(sequence, dtype=np.uint64)
    records = np.zeros(sequence.size, dtype=ATTACHMENT_DTYPE)
    records["version"] = version
    records["flags"] = FLAG_STAMP_FROM_HEADER
    records["sequence"] = sequence
    records["source_time_ns"] = source_ns
    records["send_time_ns"] = source_ns
    return records.tobytes()


def data_inbox(
    region: str, vehicle: str, topic: str, samples: Arrivals, version: int | npt.ArrayLike = ATTACHMENT_VERSION
) -> tuple[str, Inbox]:
    """(key, inbox) of single samples on telemetry/data/..., as `Ingest.on_data` fills it."""
    key = _KEYS.data(region, vehicle, topic)
    inbox = Inbox(_KEYS.parse(key), ros_type=IMU)
    inbox.attachments += attachment_bytes(samples.sequence, samples.source_ns, version)
    inbox.receive_ns = array("q", samples.receive_ns.tobytes())
    inbox.size = array("q", samples.size.tobytes())
    return key, inbox


def batch_payload(store: TypeStore, samples: Arrivals, send_ns: int) -> bytes:
    """One msg/SampleBatch holding `samples`, encoded by the bridge's own batcher."""
    batcher = SampleBatcher(IMU, True, store.constant(SAMPLE_BATCH, "VERSION"))
    for sequence, source_ns, size in zip(samples.sequence, samples.source_ns, samples.size, strict=True):
        batcher.add(int(sequence), int(source_ns), bytes(int(size)))
    return batcher.take_batch(send_ns)


def batch_inbox(region: str, vehicle: str, topic: str, batches: Iterable[tuple[int, bytes]]) -> tuple[str, Inbox]:
    """(key, inbox) of a stream's SampleBatches: (receive time, payload) pairs, kept as the
    callback keeps them (the head without the samples' bytes; whole if it does not parse)."""
    key = _KEYS.data(region, vehicle, topic)
    inbox = Inbox(_KEYS.parse(key))
    for receive_ns, payload in batches:
        try:
            head, data_len = batch_head(payload)
            inbox.batches.append((receive_ns, head, data_len))
        except (ValueError, struct.error):
            inbox.batches.append((receive_ns, payload, None))
    return key, inbox


def drained(
    *inboxes: tuple[str, Inbox],
    bad: Mapping[tuple[str, str], Mapping[str, int]] | None = None,
    presence: Iterable[tuple[str, str, bool, int]] = (),
) -> Drained:
    """One tick's input for `FleetEngine.ingest`."""
    counted = {VehicleKey(*source): dict(counts) for source, counts in (bad or {}).items()}
    return Drained(dict(inboxes), counted, list(presence))


@dataclass(frozen=True)
class FakeBytes:
    """Stands in for zenoh.ZBytes: `to_bytes()` and `len()`."""

    data: bytes

    def to_bytes(self) -> bytes:
        return self.data

    def __len__(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class FakeSample:
    """The attributes of a zenoh.Sample the aggregator's callbacks read."""

    key_expr: str
    payload: FakeBytes
    attachment: FakeBytes | None = None
    encoding: str = f"application/cdr;{IMU}"
    kind: str = "SampleKind.PUT"
