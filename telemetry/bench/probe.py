"""A measuring subscriber: records receive time, attachment and size per sample, nothing else.

The callback appends one tuple and returns (the aggregator's rule for hot paths); the
attachments are parsed with one numpy view per stream after the run. Latency is receive
time minus the attachment's source time (the message's header stamp), both on this
machine's clock, so no clock offset enters.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import zenoh

from telemetry.aggregator.ingest import ATTACHMENT_DTYPE
from telemetry.bench.latency import StreamMeasure, measure_stream

__all__ = ["LatencyProbe"]


class LatencyProbe:
    def __init__(self, session: zenoh.Session, selector: str) -> None:
        self._session = session
        self._selector = selector
        self._lock = threading.Lock()
        self._records: list[tuple[str, int, bytes, int]] = []
        self._started_ns = time.time_ns()
        self._subscriber: Any = None

    def __enter__(self) -> LatencyProbe:
        self._subscriber = self._session.declare_subscriber(self._selector, self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._subscriber.undeclare()

    def restart(self) -> None:
        """Forget what arrived so far (the warm-up) and start the window now."""
        with self._lock:
            self._records = []
            self._started_ns = time.time_ns()

    def measure(self) -> dict[str, StreamMeasure]:
        """Per key, over the window since `restart()`."""
        with self._lock:
            records, started_ns = self._records, self._started_ns
            self._records = []
        window_s = (time.time_ns() - started_ns) / 1e9
        by_key: dict[str, list[tuple[int, bytes, int]]] = {}
        for key, receive_ns, attachment, size in records:
            by_key.setdefault(key, []).append((receive_ns, attachment, size))
        result = {}
        for key, rows in sorted(by_key.items()):
            fields = np.frombuffer(b"".join(a for _, a, _ in rows), dtype=ATTACHMENT_DTYPE)
            result[key] = measure_stream(
                np.array([r for r, _, _ in rows], dtype=np.int64), fields["source_ns"], fields["sequence"],
                np.array([s for _, _, s in rows], dtype=np.int64), window_s,
            )
        return result

    def _record(self, sample: zenoh.Sample) -> None:
        now_ns = time.time_ns()
        attachment = sample.attachment
        if attachment is None:
            return
        record = (str(sample.key_expr), now_ns, attachment.to_bytes(), len(sample.payload))
        with self._lock:
            self._records.append(record)
