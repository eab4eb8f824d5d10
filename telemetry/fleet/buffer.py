"""One stream's recent arrivals as numpy columns: only what the window stats need, bounded.

The aggregator's tick appends each stream's new samples (`extend`), drops those older than
the window (`trim`) and hands read-only views of what is left to `window_stats`.

What is kept, and why it is so little (at 1 000 000 samples/s, a 5 s window holds 5 million
samples):
- per arrival (one Zenoh message: a single sample, or a whole batch, whose samples share its
  arrival time): the receive time (int64 ns, for rate, jitter and staleness), how many
  samples it brought (int32) and their payload bytes (int64): 20 bytes, once per batch;
- per sample: its latency (receive - source time) as float32 ns relative to one int64 base
  per stream (`latency_base_ns`: a latency of the stream's, set when its buffer (re)starts),
  for the percentiles: 4 bytes.
  Exact to the nanosecond within 16.7 ms of the base (2**24 ns), within 32 ns up to 1.07 s
  (2**30 ns) from it; when new samples sit farther (a vehicle's clock stepped), the base
  moves to them, the samples held are shifted onto it, and precision returns for them;
- per tick, only when the tick saw any: its sequence findings (lost, restarts, jumps,
  reordered, from the stream's `SequenceTracker`), each at the receive time it is attributed
  to (see telemetry.fleet.stats). Sequence numbers and sizes are not kept per sample.
A single-sample stream costs 24 bytes a sample, a batched one about 4.

Memory: a stream never holds more than `capacity` samples (the oldest are dropped and
counted in `overflowed_total`, published in msg/StreamStats; an arrival cut in two keeps its
newest samples and their share of its bytes). Storage is allocated at the first append (at
least 256 rows per column set, 8 for gap rows) and grows to 1.5x what the stream needs when
it is more than 3/4 full, never past 4/3 x capacity; it shrinks again when trimming leaves it
less than 1/8 full.

Cost: rows live in [start, end) of their storage; trimming only moves `start`, and the live
rows are moved to the front only when appending would run past the end, which happens after
at least a quarter of the storage has been appended since the last move: each row is copied
a bounded number of times (amortised O(1)).
"""

from __future__ import annotations

from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt

from telemetry.fleet.sequence import GapCounts

__all__ = ["DEFAULT_CAPACITY", "NO_GAP_ROWS", "BufferColumns", "GapRows", "StreamBuffer"]

#: 5 s of a 10 kHz stream, with room to spare.
DEFAULT_CAPACITY = 65_536
_INITIAL_STORAGE = 256
#: Gap rows come only from ticks that saw loss, restarts, jumps or reordering: few.
_INITIAL_GAP_ROWS = 8
#: Beyond this distance from the base (float32 steps of 128 ns there), the base moves.
_REBASE_LATENCY_NS = 2**30


class BufferColumns(NamedTuple):
    """A stream's live arrivals, oldest first: arrival columns of equal length, then the
    per-sample latencies of all of them, in order (`samples.sum()` of them)."""

    receive_ns: npt.NDArray[np.int64]  # per arrival, aggregator clock, non-decreasing
    samples: npt.NDArray[np.int32]  # samples per arrival (>= 1)
    payload_bytes: npt.NDArray[np.int64]  # per arrival: its samples' payload bytes
    latency_from_base_ns: npt.NDArray[np.float32]  # per sample: receive - source - latency_base_ns
    latency_base_ns: int


class GapRows(NamedTuple):
    """Sequence findings per tick, each at the receive time it is attributed to (non-decreasing)."""

    at_ns: npt.NDArray[np.int64]
    lost: npt.NDArray[np.int64]
    restarts: npt.NDArray[np.int64]
    jumps: npt.NDArray[np.int64]
    reordered: npt.NDArray[np.int64]


#: What `gap_rows()` gives for a stream whose window holds no findings (read-only).
NO_GAP_ROWS = GapRows(*(np.empty(0, np.int64) for _ in GapRows._fields))
for _column in NO_GAP_ROWS:
    _column.flags.writeable = False

_ARRIVAL_DTYPES = (np.int64, np.int32, np.int64)
_SAMPLE_DTYPES = (np.float32,)
_GAP_DTYPES = (np.int64,) * 5


class StreamBuffer:
    """A bounded, append-at-the-end, drop-from-the-front store of one stream's arrivals."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.overflowed_total = 0  # samples dropped because the buffer was full
        self.last_receive_ns: int | None = None  # survives trimming, for staleness
        self.latency_base_ns = 0
        max_rows = capacity + capacity // 3 + 1
        self._arrivals = _Rows(_ARRIVAL_DTYPES, max_rows)
        self._samples = _Rows(_SAMPLE_DTYPES, max_rows)
        self._gaps = _Rows(_GAP_DTYPES, max_rows, initial_rows=_INITIAL_GAP_ROWS)

    def __len__(self) -> int:
        """Samples held."""
        return len(self._samples)

    @property
    def arrivals(self) -> int:
        """Arrivals held (messages: single samples or batches)."""
        return len(self._arrivals)

    @property
    def storage(self) -> int:
        """Sample rows currently allocated (for memory accounting and tests)."""
        return self._samples.storage

    @property
    def nbytes(self) -> int:
        """Bytes of column storage allocated, all column sets together."""
        return self._arrivals.nbytes + self._samples.nbytes + self._gaps.nbytes

    def extend(
        self,
        receive_ns: npt.ArrayLike,
        samples: npt.ArrayLike,
        payload_bytes: npt.ArrayLike,
        latency_ns: npt.ArrayLike,
        gaps: GapCounts | None = None,
    ) -> None:
        """Append one tick's arrivals (arrival order) and their samples' latencies (ns).

        `gaps` is what the stream's SequenceTracker made of the same samples: kept as up to two
        rows, the loss at the tick's first step at the previous arrival (the sample before that
        gap), the rest at the tick's first arrival. Beyond capacity the oldest samples are
        dropped and counted.
        """
        receive, counts, sizes = _arrival_columns(receive_ns, samples, payload_bytes)
        latency = np.asarray(latency_ns, dtype=np.int64)
        total = int(counts.sum(dtype=np.int64))
        if latency.ndim != 1 or latency.size != total:
            raise ValueError(f"latency_ns must hold one value per sample ({total}), got shape {latency.shape}")
        if receive.size and int(counts.min()) < 1:
            raise ValueError("every arrival must bring at least one sample")
        if total == 0:
            return
        previous_ns = self.last_receive_ns
        newest = int(receive[-1])  # arrival order: the newest is last
        self.last_receive_ns = newest if previous_ns is None else max(previous_ns, newest)
        if gaps is not None:
            self._add_gaps(int(receive[0]) if previous_ns is None else previous_ns, int(receive[0]), gaps)
        if total >= self.capacity:
            self.overflowed_total += len(self) + total - self.capacity
            self._arrivals.clear()
            self._samples.clear()
            receive, counts, sizes = _newest_samples(receive, counts, sizes, self.capacity)
            latency, total = latency[total - self.capacity :], self.capacity
        else:
            self._drop_oldest_samples(len(self) + total - self.capacity)
        self._arrivals.append(receive, counts, sizes)
        self._samples.append(self._relative_latency(latency))

    def trim(self, before_ns: int) -> int:
        """Drop arrivals received before `before_ns` (and gap rows attributed before it);
        returns how many samples were dropped.

        Receive times are expected in non-decreasing order (one stream's arrivals on one
        clock); the cut is found by binary search.
        """
        cut = int(np.searchsorted(self._arrivals.column(0), before_ns, side="left"))
        dropped = int(self._arrivals.column(1)[:cut].sum(dtype=np.int64)) if cut else 0
        self._arrivals.drop_front(cut)
        self._samples.drop_front(dropped)
        if len(self._gaps):
            self._gaps.drop_front(int(np.searchsorted(self._gaps.column(0), before_ns, side="left")))
        return dropped

    def columns(self) -> BufferColumns:
        """Read-only views of the live arrivals; valid until the next `extend` or `trim`."""
        receive_ns, samples, payload_bytes = _read_only(self._arrivals.live())
        (latency,) = _read_only(self._samples.live())
        return BufferColumns(
            cast("npt.NDArray[np.int64]", receive_ns), cast("npt.NDArray[np.int32]", samples),
            cast("npt.NDArray[np.int64]", payload_bytes), cast("npt.NDArray[np.float32]", latency),
            self.latency_base_ns,
        )

    def gap_rows(self) -> GapRows:
        """Read-only views of the live gap rows; valid until the next `extend` or `trim`."""
        if not len(self._gaps):
            return NO_GAP_ROWS
        return GapRows(*(cast("npt.NDArray[np.int64]", column) for column in _read_only(self._gaps.live())))

    def _add_gaps(self, first_step_at_ns: int, first_at_ns: int, gaps: GapCounts) -> None:
        rows = []
        if gaps.lost_first_step:
            rows.append((first_step_at_ns, gaps.lost_first_step, 0, 0, 0))
        rest = gaps.lost - gaps.lost_first_step
        if rest or gaps.restarts or gaps.jumps or gaps.reordered:
            rows.append((first_at_ns, rest, gaps.restarts, gaps.jumps, gaps.reordered))
        if not rows:
            return
        excess = len(self._gaps) + len(rows) - self.capacity
        if excess > 0:
            self._gaps.drop_front(excess)
        self._gaps.append(*np.array(rows, dtype=np.int64).T)

    def _relative_latency(self, latency_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """Latencies as float32 ns from the base; the base moves to the newest latency when
        the buffer is empty or the new values sit more than _REBASE_LATENCY_NS from it."""
        newest = int(latency_ns[-1])
        if not len(self):
            self.latency_base_ns = newest
        elif abs(newest - self.latency_base_ns) >= _REBASE_LATENCY_NS:
            held = self._samples.column(0)
            np.add(held, np.float32(self.latency_base_ns - newest), out=held)  # the old samples, on the new base
            self.latency_base_ns = newest
        return (latency_ns - self.latency_base_ns).astype(np.float32)

    def _drop_oldest_samples(self, excess: int) -> None:
        """Drop the `excess` oldest samples (when > 0), cutting the arrival they end in."""
        if excess <= 0:
            return
        self.overflowed_total += excess
        _, count, payload_bytes = self._arrivals.live()
        ends = np.cumsum(count, dtype=np.int64)
        whole = int(np.searchsorted(ends, excess, side="right"))  # arrivals that go entirely
        if whole < count.size:
            left = int(ends[whole]) - excess  # samples of the cut arrival that stay
            payload_bytes[whole] = int(payload_bytes[whole]) * left // int(count[whole])
            count[whole] = left
        self._arrivals.drop_front(whole)
        self._samples.drop_front(excess)


class _Rows:
    """Equal-length columns of one kind of row, live rows in [start, end) of their storage."""

    def __init__(
        self, dtypes: tuple[type[np.generic], ...], max_rows: int, initial_rows: int = _INITIAL_STORAGE
    ) -> None:
        self._dtypes = dtypes
        self._max_rows = max_rows
        self._initial_rows = initial_rows
        self._columns = _allocate(dtypes, 0)
        self._start = self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def storage(self) -> int:
        return int(self._columns[0].size)

    @property
    def nbytes(self) -> int:
        return sum(column.nbytes for column in self._columns)

    def live(self) -> tuple[npt.NDArray[np.generic], ...]:
        """Writable views of the live rows (the buffer's own use)."""
        return tuple(column[self._start : self._end] for column in self._columns)

    def column(self, index: int) -> npt.NDArray[np.generic]:
        """A writable view of one column's live rows."""
        return self._columns[index][self._start : self._end]

    def append(self, *new: npt.NDArray[np.generic]) -> None:
        """Append rows; the caller keeps the total within `max_rows`."""
        count = int(new[0].size)
        if count == 0:
            return
        self._make_room(count)
        for stored, column in zip(self._columns, new, strict=True):
            stored[self._end : self._end + count] = column
        self._end += count

    def drop_front(self, count: int) -> None:
        if count == 0:
            return
        self._start += count
        if self._start >= self._end:
            self._start = self._end = 0
        if self.storage > self._initial_rows and 8 * len(self) < self.storage:
            self._resize(max(self._initial_rows, 4 * len(self)))

    def clear(self) -> None:
        self.drop_front(len(self))

    def _make_room(self, count: int) -> None:
        if self._end + count <= self.storage:
            return
        needed = len(self) + count
        if 4 * needed > 3 * self.storage and self.storage < self._max_rows:
            self._resize(min(self._max_rows, max(self._initial_rows, needed + needed // 2)))
        else:
            live = len(self)
            for stored in self._columns:
                stored[:live] = stored[self._start : self._end]  # numpy handles the overlap
            self._start, self._end = 0, live

    def _resize(self, rows: int) -> None:
        live = len(self)
        columns = _allocate(self._dtypes, rows)
        for fresh, stored in zip(columns, self._columns, strict=True):
            fresh[:live] = stored[self._start : self._end]
        self._columns = columns
        self._start, self._end = 0, live


def _allocate(dtypes: tuple[type[np.generic], ...], rows: int) -> tuple[npt.NDArray[np.generic], ...]:
    return tuple(np.empty(rows, dtype) for dtype in dtypes)


def _read_only(views: tuple[npt.NDArray[np.generic], ...]) -> tuple[npt.NDArray[np.generic], ...]:
    for view in views:
        view.flags.writeable = False
    return views


def _arrival_columns(
    receive_ns: npt.ArrayLike, samples: npt.ArrayLike, payload_bytes: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    receive = np.asarray(receive_ns, dtype=np.int64)
    counts = np.asarray(samples, dtype=np.int32)
    sizes = np.asarray(payload_bytes, dtype=np.int64)
    if not receive.shape == counts.shape == sizes.shape or receive.ndim != 1:
        raise ValueError(
            "arrival columns must be one-dimensional and of equal length, got "
            f"receive_ns={receive.shape}, samples={counts.shape}, payload_bytes={sizes.shape}"
        )
    return receive, counts, sizes


def _newest_samples(
    receive_ns: npt.NDArray[np.int64], samples: npt.NDArray[np.int32], payload_bytes: npt.NDArray[np.int64], keep: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """The arrivals holding the newest `keep` samples; the oldest of them cut to its share."""
    ends_from_newest = np.cumsum(samples[::-1], dtype=np.int64)
    kept = int(np.searchsorted(ends_from_newest, keep, side="left")) + 1  # arrivals, newest first
    receive_ns, samples, payload_bytes = receive_ns[-kept:], samples[-kept:].copy(), payload_bytes[-kept:].copy()
    left = keep - (int(ends_from_newest[kept - 2]) if kept > 1 else 0)
    payload_bytes[0] = int(payload_bytes[0]) * left // int(samples[0])
    samples[0] = left
    return receive_ns, samples, payload_bytes
