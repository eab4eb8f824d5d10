"""Collect one stream's samples for `batch_ms` and encode them as one msg/SampleBatch.

Columns (sequence, source time, size) grow as plain Python lists and the payloads are
joined once per batch, so adding a sample costs three appends.
"""

from __future__ import annotations

from telemetry.codec import TypeStore
from telemetry.codec.batch import BATCH_TYPE

__all__ = ["SampleBatcher"]


class SampleBatcher:
    """Samples of one stream waiting to go out together."""

    def __init__(self, store: TypeStore, ros_type: str, stamp_from_header: bool, batch_ms: float) -> None:
        self._store = store
        self._batch_cls = store.message_class(BATCH_TYPE)
        self._time_cls = store.message_class("builtin_interfaces/msg/Time")
        self._ros_type = ros_type
        self._stamp_from_header = stamp_from_header
        self._batch_ns = round(batch_ms * 1e6)
        self._sequence: list[int] = []
        self._source_time_ns: list[int] = []
        self._size: list[int] = []
        self._payloads: list[bytes] = []
        self._first_ns = 0

    def __len__(self) -> int:
        return len(self._sequence)

    def add(self, sequence: int, source_time_ns: int, payload: bytes, now_ns: int) -> None:
        if not self._sequence:
            self._first_ns = now_ns
        self._sequence.append(sequence)
        self._source_time_ns.append(source_time_ns)
        self._size.append(len(payload))
        self._payloads.append(payload)

    def due(self, now_ns: int) -> bool:
        """True when the oldest waiting sample has waited `batch_ms`."""
        return bool(self._sequence) and now_ns - self._first_ns >= self._batch_ns

    def flush(self, send_time_ns: int) -> bytes:
        """The waiting samples as SampleBatch CDR bytes; the batcher starts empty again."""
        sec, nanosec = divmod(send_time_ns, 1_000_000_000)
        batch = self._batch_cls(
            version=self._batch_cls.VERSION,
            stamp=self._time_cls(sec=sec, nanosec=nanosec),
            ros_type=self._ros_type,
            stamp_from_header=self._stamp_from_header,
            sequence=self._sequence,
            source_time_ns=self._source_time_ns,
            size=self._size,
            data=b"".join(self._payloads),
        )
        self._sequence, self._source_time_ns, self._size, self._payloads = [], [], [], []
        return self._store.encode(batch)
