"""What the vehicle side puts on Zenoh, as a test sees it: recorded samples, the catalogue, tokens.

`WireRecorder`'s callback only appends (no decoding, no Zenoh calls), so a 1 kHz stream costs
the test process little; tests decode and count afterwards.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import zenoh

from support.processes import wait_until
from telemetry.codec import TypeStore
from telemetry.codec.attachment import Attachment, pack_fields, unpack
from telemetry.codec.batch import is_batch, read_batch

__all__ = [
    "TRANSPORT_LOSS_TOLERANCE",
    "WireRecorder",
    "WireSample",
    "alive_keys",
    "allowed_losses",
    "missing_sequences",
    "priority_number",
    "query_catalogue",
    "stream_counters",
    "unpack_batch",
    "wait_for_answers",
]


@dataclass(frozen=True)
class WireSample:
    """One Zenoh sample as it arrived: raw bytes, the attachment, and the arrival time."""

    key: str
    payload: bytes
    attachment_bytes: bytes | None
    encoding: str
    priority: int  # priority_number(zenoh.Priority.X)
    arrival_ns: int  # time.monotonic_ns() in the callback

    @property
    def attachment(self) -> Attachment:
        assert self.attachment_bytes is not None, f"sample on {self.key} has no attachment"
        return unpack(self.attachment_bytes)


def priority_number(priority: zenoh.Priority) -> int:
    """The number Zenoh sends for `priority`: 1 (REAL_TIME) to 7 (BACKGROUND)."""
    # zenoh's stub declares Priority a plain Enum without __int__; the runtime class (pyo3) has
    # __int__ and no .value, so int() is the only way to read the number.
    number: int = int(priority)  # type: ignore[call-overload]
    return number


class WireRecorder:
    """Records every sample on `key_expr` while the `with` block runs.

    The callback stores plain tuples of str, bytes and int, which the garbage collector
    stops tracking, so a long recording at 1 kHz does not make collections slower and
    stall the callback (a stalled subscriber makes the router drop best-effort samples).
    """

    def __init__(self, session: zenoh.Session, key_expr: str) -> None:
        self._session = session
        self._key_expr = key_expr
        self._records: list[tuple[str, bytes, bytes | None, str, int, int]] = []
        self._subscriber: Any = None

    def __enter__(self) -> WireRecorder:
        # One subscriber: two would be called from different threads, out of order.
        self._subscriber = self._session.declare_subscriber(self._key_expr, self._record)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._subscriber.undeclare()

    def _record(self, sample: zenoh.Sample) -> None:
        attachment = sample.attachment
        self._records.append((
            str(sample.key_expr),
            sample.payload.to_bytes(),
            attachment.to_bytes() if attachment is not None else None,
            str(sample.encoding),
            priority_number(sample.priority),
            time.monotonic_ns(),
        ))

    def messages(self, key: str | None = None, since_ns: int = 0, until_ns: int | None = None) -> list[WireSample]:
        """Zenoh messages on exactly `key` (all keys when None) that arrived in [since_ns, until_ns)."""
        return [
            WireSample(*record)
            for record in list(self._records)  # a snapshot: the callback keeps appending
            if (key is None or record[0] == key)
            and record[5] >= since_ns
            and (until_ns is None or record[5] < until_ns)
        ]

    def samples(self, key: str | None = None, since_ns: int = 0, until_ns: int | None = None) -> list[WireSample]:
        """What `messages` gives, with every SampleBatch unpacked into the samples it carries,
        each with the attachment it would have had alone: a stream's samples in arrival order,
        however the bridge grouped them."""
        found: list[WireSample] = []
        for message in self.messages(key, since_ns, until_ns):
            found += unpack_batch(message) if is_batch(message.encoding) else [message]
        return found

    def batches(self, key: str | None = None, since_ns: int = 0) -> list[WireSample]:
        """The messages on `key` that are SampleBatches."""
        return [message for message in self.messages(key, since_ns) if is_batch(message.encoding)]

    def count(self, key: str, since_ns: int = 0) -> int:
        return len(self.samples(key, since_ns))

    def wait_for(self, key: str, count: int = 1, timeout_s: float = 10.0, since_ns: int = 0) -> bool:
        """True once `count` samples arrived on `key` (since `since_ns`), False after `timeout_s`."""
        return wait_until(lambda: self.count(key, since_ns) >= count, timeout_s)

    def measure(self, duration_s: float) -> tuple[int, int]:
        """Let a measurement window of `duration_s` pass; its (start, end) for `samples()`.

        A rate needs a fixed span of time, so this is the one place that waits without a
        condition.
        """
        start_ns = time.monotonic_ns()
        time.sleep(duration_s)
        return start_ns, start_ns + round(duration_s * 1e9)


_STORE: list[TypeStore] = []


def unpack_batch(message: WireSample) -> list[WireSample]:
    """The samples a SampleBatch message carries, as if each had come alone."""
    if not _STORE:
        _STORE.append(TypeStore.from_environment())
    batch = read_batch(_STORE[0], message.payload)
    encoding = f"application/cdr;{batch.ros_type}"
    return [WireSample(message.key, payload, pack_fields(sequence, source_ns, batch.send_ns, batch.stamp_from_header),
                       encoding, message.priority, message.arrival_ns)
            for sequence, source_ns, payload in batch.samples()]


def query_catalogue(session: zenoh.Session, region: str, vehicle: str, timeout_s: float = 5.0,
                    root: str = "telemetry") -> dict[str, Any]:
    """The bridge's answer on `<root>/meta/<region>/<vehicle>`, parsed; fails the test if none.

    Asks again until an answer comes: right after the bridge declared its queryable, the
    router may not know it yet and answers a query with no replies at once.
    """
    key = f"{root}/meta/{region}/{vehicle}"
    answers = wait_for_answers(session, key, timeout_s)
    assert str(answers[0].encoding) == "application/json", answers[0].encoding
    catalogue: dict[str, Any] = json.loads(answers[0].payload.to_bytes())
    return catalogue


def wait_for_answers(session: zenoh.Session, selector: str, timeout_s: float) -> list[zenoh.Sample]:
    """The successful replies to the first query on `selector` that gets any; fails after `timeout_s`."""
    answers: list[zenoh.Sample] = []

    def answered() -> bool:
        answers[:] = [r.ok for r in session.get(selector, timeout=min(1.0, timeout_s)) if r.ok is not None]
        return bool(answers)

    assert wait_until(answered, timeout_s, interval_s=0.05), f"no answer on {selector} within {timeout_s} s"
    return answers


def stream_counters(catalogue: dict[str, Any], topic: str) -> dict[str, int]:
    """The per-topic counters of one stream of a catalogue."""
    for entry in catalogue["streams"]:
        if entry["topic"] == topic:
            return dict(entry["counters"])
    raise AssertionError(f"no stream {topic} in the catalogue: {[s['topic'] for s in catalogue['streams']]}")


def alive_keys(session: zenoh.Session, selector: str = "telemetry/alive/**", timeout_s: float = 2.0) -> list[str]:
    """Keys of the liveliness tokens currently held under `selector`."""
    replies = session.liveliness().get(selector, timeout=timeout_s)
    return sorted(str(reply.ok.key_expr) for reply in replies if reply.ok is not None)



#: Samples the transport may drop, as a fraction of a best-effort stream, before a test fails.
#: Best-effort (congestion control "drop") streams lose samples when a Zenoh queue stays full
#: for over a millisecond, which happens when the 2 cores are busy with other work: measured
#: here, none in quiet runs; a burst of 10 in 5000 while another process ran a throughput
#: benchmark; ~0.5 % with two busy loops added. A bridge that mis-numbers or drops samples
#: itself is caught strictly where nothing else can drop (test/bridge/test_zenoh_forwarder.py).
TRANSPORT_LOSS_TOLERANCE = 0.005


def missing_sequences(sequences: list[int]) -> list[int]:
    """The sequence numbers missing between the first and the last, which must strictly increase."""
    steps = [b - a for a, b in itertools.pairwise(sequences)]
    backwards = [(a, b) for (a, b), step in zip(itertools.pairwise(sequences), steps, strict=True) if step < 1]
    assert not backwards, f"sequence numbers repeat or go backwards: {backwards[:10]}"
    pairs = zip(itertools.pairwise(sequences), steps, strict=True)
    return [n for (a, _), step in pairs for n in range(a + 1, a + step)]


def allowed_losses(count: int) -> int:
    """How many of `count` best-effort samples the transport may drop (at least one)."""
    return max(1, round(TRANSPORT_LOSS_TOLERANCE * count))
