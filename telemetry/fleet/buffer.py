"""One stream's recent samples as numpy columns, bounded in memory.

The aggregator's tick appends each stream's new samples (`extend`), drops those older than
the window (`trim`) and hands read-only views of what is left to the stats functions.

Memory: a stream never holds more than `capacity` samples (the oldest are dropped and
counted in `overflowed`). Storage (32 bytes a row) starts at 256 rows and grows to 1.5x
what the stream needs when it is more than 3/4 full, so a 1 Hz stream costs 8 KiB, a 1 kHz
stream with a 5 s window about 260 KiB, and only a stream that fills its capacity gets the
most: 4/3 x capacity rows (2.8 MB for the default 65 536). After a burst, storage shrinks
again when trimming leaves it less than 1/8 full.

Cost: samples live in [start, end) of the storage; trimming only moves `start`, and the
live samples are moved to the front only when appending would run past the end, which
happens after at least a quarter of the storage has been appended since the last move:
each sample is copied a bounded number of times (amortised O(1)).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_CAPACITY", "BufferColumns", "StreamBuffer"]

#: 5 s of a 10 kHz stream, with room to spare.
DEFAULT_CAPACITY = 65_536
_INITIAL_STORAGE = 256


class BufferColumns(NamedTuple):
    """Equal-length columns, one row per sample, in arrival order."""

    receive_ns: npt.NDArray[np.int64]  # aggregator clock
    source_ns: npt.NDArray[np.int64]  # vehicle clock
    sequence: npt.NDArray[np.uint64]
    size: npt.NDArray[np.int64]  # payload bytes


class StreamBuffer:
    """A bounded, append-at-the-end, drop-from-the-front store of one stream's samples."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.overflowed = 0  # samples dropped because the buffer was full
        self.last_receive_ns: int | None = None  # survives trimming, for staleness
        self._max_storage = capacity + capacity // 3 + 1
        self._columns = _allocate(min(_INITIAL_STORAGE, self._max_storage))
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def storage(self) -> int:
        """Rows currently allocated (for memory accounting and tests)."""
        return self._columns.receive_ns.size

    def extend(
        self,
        receive_ns: npt.ArrayLike,
        source_ns: npt.ArrayLike,
        sequence: npt.ArrayLike,
        size: npt.ArrayLike,
    ) -> None:
        """Append samples (arrival order). Beyond capacity the oldest are dropped and counted."""
        new = BufferColumns(
            np.asarray(receive_ns, dtype=np.int64),
            np.asarray(source_ns, dtype=np.int64),
            np.asarray(sequence, dtype=np.uint64),
            np.asarray(size, dtype=np.int64),
        )
        count = _checked_length(new)
        if count == 0:
            return
        newest = int(new.receive_ns.max())
        self.last_receive_ns = newest if self.last_receive_ns is None else max(self.last_receive_ns, newest)
        if count >= self.capacity:
            self.overflowed += len(self) + count - self.capacity
            self._start = self._end = 0
            new = _rows(new, count - self.capacity, count)
            count = self.capacity
        else:
            excess = len(self) + count - self.capacity
            if excess > 0:
                self.overflowed += excess
                self._start += excess
        self._make_room(count)
        for stored, column in zip(self._columns, new, strict=True):
            stored[self._end : self._end + count] = column
        self._end += count

    def trim(self, before_ns: int) -> int:
        """Drop samples received before `before_ns`; returns how many were dropped.

        Receive times are expected in non-decreasing order (one stream's arrivals on one
        clock); the cut is found by binary search.
        """
        live = self._columns.receive_ns[self._start : self._end]
        dropped = int(np.searchsorted(live, before_ns, side="left"))
        self._start += dropped
        if self._start == self._end:
            self._start = self._end = 0
        if self.storage > _INITIAL_STORAGE and 8 * len(self) < self.storage:
            self._resize(max(_INITIAL_STORAGE, 4 * len(self)))
        return dropped

    def columns(self) -> BufferColumns:
        """Read-only views of the live samples; valid until the next `extend` or `trim`."""
        views = _rows(self._columns, self._start, self._end)
        for view in views:
            view.flags.writeable = False
        return views

    def _make_room(self, count: int) -> None:
        if self._end + count <= self.storage:
            return
        needed = len(self) + count
        if 4 * needed > 3 * self.storage and self.storage < self._max_storage:
            self._resize(min(self._max_storage, needed + needed // 2))
        else:
            live = len(self)
            for stored in self._columns:
                stored[:live] = stored[self._start : self._end]  # numpy handles the overlap
            self._start, self._end = 0, live

    def _resize(self, rows: int) -> None:
        live = len(self)
        columns = _allocate(rows)
        for fresh, stored in zip(columns, self._columns, strict=True):
            fresh[:live] = stored[self._start : self._end]
        self._columns = columns
        self._start, self._end = 0, live


def _rows(columns: BufferColumns, start: int, end: int) -> BufferColumns:
    """Views of rows [start, end) of every column."""
    receive_ns, source_ns, sequence, size = columns
    return BufferColumns(receive_ns[start:end], source_ns[start:end], sequence[start:end], size[start:end])


def _allocate(rows: int) -> BufferColumns:
    return BufferColumns(
        np.empty(rows, np.int64), np.empty(rows, np.int64), np.empty(rows, np.uint64), np.empty(rows, np.int64)
    )


def _checked_length(columns: BufferColumns) -> int:
    lengths = {column.shape for column in columns}
    if len(lengths) != 1 or columns.receive_ns.ndim != 1:
        shapes = ", ".join(f"{name}={column.shape}" for name, column in zip(columns._fields, columns, strict=True))
        raise ValueError(f"columns must be one-dimensional and of equal length, got {shapes}")
    return int(columns.receive_ns.size)
