"""A measuring subscriber: records receive time, attachment and size per sample, nothing else.

The callback appends one tuple and returns (the aggregator's rule for hot paths); the
attachments are parsed with one numpy view per stream after the run. A stream's batches
(a SampleBatch on its key, when the bridge sent several samples together) are recorded whole
and read after the run, each sample counted as arriving with its batch. Latency is receive
time minus the attachment's source time (the message's header stamp), both on this
machine's clock, so no clock offset enters.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import zenoh

from telemetry.bench.latency import StreamMeasure, measure_stream
from telemetry.codec import TypeStore
from telemetry.codec.attachment import ATTACHMENT_DTYPE
from telemetry.codec.batch import is_batch, read_batch

__all__ = ["LatencyProbe", "ProbeWindow"]


@dataclass(frozen=True)
class ProbeWindow:
    """What arrived in one window, by data key (a stream's batches counted under its data key)."""

    streams: dict[str, StreamMeasure]
    messages: dict[str, int]  # Zenoh messages that carried them: samples alone plus batches


#: One part of a stream's arrivals: receive ns, source ns, sequence, size (one row per sample).
_Columns = tuple[np.ndarray, ...]


def _by_key(records: list[tuple[str, int, bytes, int]]) -> dict[str, list[tuple[int, bytes, int]]]:
    """Samples that arrived alone, grouped by key: (receive ns, attachment, payload size)."""
    grouped: dict[str, list[tuple[int, bytes, int]]] = {}
    for key, receive_ns, attachment, size in records:
        grouped.setdefault(key, []).append((receive_ns, attachment, size))
    return grouped


class LatencyProbe:
    def __init__(self, session: zenoh.Session, selector: str, store: TypeStore | None = None) -> None:
        self._session = session
        self._selector = selector
        self._store = store or TypeStore.from_environment()
        self._lock = threading.Lock()
        self._records: list[tuple[str, int, bytes, int]] = []
        self._batches: list[tuple[str, int, bytes]] = []
        self._started_ns = time.time_ns()
        self._subscribers: list[Any] = []

    def __enter__(self) -> LatencyProbe:
        # One subscriber: two would be called from different threads, out of order.
        self._subscribers.append(self._session.declare_subscriber(self._selector, self._record))
        return self

    def __exit__(self, *_exc: object) -> None:
        for subscriber in self._subscribers:
            subscriber.undeclare()

    def restart(self) -> None:
        """Forget what arrived so far (the warm-up) and start the window now."""
        with self._lock:
            self._records, self._batches = [], []
            self._started_ns = time.time_ns()

    def measure(self) -> dict[str, StreamMeasure]:
        """Per key, over the window since `restart()`."""
        return self.take().streams

    def take(self) -> ProbeWindow:
        """Per key, over the window since `restart()`: the samples and how many messages carried
        them, so a benchmark sees how many samples the bridge really put in each message."""
        with self._lock:
            records, batches, started_ns = self._records, self._batches, self._started_ns
            self._records, self._batches = [], []
        window_s = (time.time_ns() - started_ns) / 1e9
        columns: dict[str, list[_Columns]] = {}
        messages: dict[str, int] = {}
        for key, rows in _by_key(records).items():
            fields = np.frombuffer(b"".join(a for _, a, _ in rows), dtype=ATTACHMENT_DTYPE)
            arrived_ns = np.array([r for r, _, _ in rows], dtype=np.int64)
            sizes = np.array([s for _, _, s in rows], dtype=np.int64)
            columns.setdefault(key, []).append((arrived_ns, fields["source_time_ns"], fields["sequence"], sizes))
            messages[key] = len(rows)
        for key, receive_ns, payload in batches:
            batch = read_batch(self._store, payload)
            columns.setdefault(key, []).append(
                (np.full(batch.sequence.size, receive_ns, dtype=np.int64), batch.source_ns, batch.sequence, batch.size))
            messages[key] = messages.get(key, 0) + 1
        result = {}
        for key, parts in sorted(columns.items()):
            receive, source, sequence, sizes = (np.concatenate(column) for column in zip(*parts, strict=True))
            order = np.argsort(receive, kind="stable")
            result[key] = measure_stream(receive[order], source[order], sequence[order], sizes[order], window_s)
        return ProbeWindow(result, dict(sorted(messages.items())))

    def messages(self) -> int:
        """How many Zenoh messages arrived since `restart()` (samples alone plus batches)."""
        with self._lock:
            return len(self._records) + len(self._batches)

    def _record(self, sample: zenoh.Sample) -> None:
        now_ns = time.time_ns()
        attachment = sample.attachment
        if attachment is None:
            if is_batch(str(sample.encoding)):  # several samples of the stream in one message
                batch = (str(sample.key_expr), now_ns, sample.payload.to_bytes())
                with self._lock:
                    self._batches.append(batch)
            return
        record = (str(sample.key_expr), now_ns, attachment.to_bytes(), len(sample.payload))
        with self._lock:
            self._records.append(record)
