"""Sequence numbers: loss, bridge restarts, bad jumps and reordering, one tick at a time.

A bridge numbers each stream's samples 1, 2, 3, ... (u64). Between two consecutive samples
`p` then `v` of one stream, in arrival order:

- `v` steps forward by `d` with 1 <= d <= jump_limit: `d - 1` samples were lost;
- `v` steps back to a value <= RESTART_MAX_SEQUENCE, by more than REORDER_WINDOW: the
  bridge restarted (it counts from 1 again). Counted in `restarts`, never as loss;
- `v` is more than `jump_limit` away from `p`, either way, and is not a restart: bad input
  (a vehicle sent a billion-sample jump). Counted in `jumps`, never as loss; counting
  resynchronises on `v`, and a jump back to normal is a second jump, not reordering;
- any other step back, or a repeat, is a late or duplicate sample: `reordered`, not loss.

Restarts and jumps cut the series into runs. Inside a run, loss is measured against the
run's high-water mark (the largest sequence so far), not against the previous sample, and
a late sample that fills a gap of the same call is not counted as lost: 1 2 4 3 5 is lost 0,
reordered 1. A late sample that fills a gap already reported by an earlier call only counts
as reordered (the earlier total is not revised: the values seen are not kept).

Each call also says how much of its loss came at its first step, from the carried
high-water mark to the first new value (`lost_first_step`): the gap at a tick's boundary, so
the aggregator can attribute it to the sample before it (telemetry.fleet.stats).

Edge kept on purpose: a restart within the first REORDER_WINDOW samples of a run looks like
reordering (counted as reordered, not as restart, and still not as loss).

Everything is vectorised over the samples of one call: Python loops run per call, never per
sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_JUMP_LIMIT",
    "JUMP_LIMIT_S",
    "MAX_JUMP_LIMIT",
    "MIN_JUMP_LIMIT",
    "REORDER_WINDOW",
    "RESTART_MAX_SEQUENCE",
    "GapCounts",
    "SequenceTotals",
    "SequenceTracker",
    "classify_gaps",
    "jump_limit_for",
]

#: A step back to at most this value is a bridge restart (sequences start at 1; the first
#: few samples of a new run may be lost before routes settle).
RESTART_MAX_SEQUENCE = 1000
#: A step back by at most this many is reordering, even when it lands on a small value.
REORDER_WINDOW = 32
#: Seconds of samples a forward step may skip and still be loss (an outage) rather than a jump.
JUMP_LIMIT_S = 60.0
#: Smallest jump limit, whatever the rate: slow streams still tolerate long outages.
MIN_JUMP_LIMIT = 10_000
#: Jump limit when the expected rate is unknown: 100 s of a 10 kHz stream.
DEFAULT_JUMP_LIMIT = 1_000_000
#: Largest jump limit accepted: keeps the int64 arithmetic below exact for any realistic call.
MAX_JUMP_LIMIT = 2**40

# A late sample's distance from the run's high-water mark beyond which the carried state is
# not trusted (it cannot come from a real stream; it keeps int64 arithmetic safe).
_MAX_CARRIED_LAG = 2**50


def jump_limit_for(expected_hz: float | None) -> int:
    """The jump limit for a stream: max(MIN_JUMP_LIMIT, JUMP_LIMIT_S x expected_hz).

    A forward step larger than this cannot be an outage the stream could have lived through
    (a minute of samples at the expected rate), so it is bad input, not loss. Unknown rate
    (None, NaN, <= 0): DEFAULT_JUMP_LIMIT.
    """
    if expected_hz is None or not math.isfinite(expected_hz) or expected_hz <= 0:
        return DEFAULT_JUMP_LIMIT
    return min(MAX_JUMP_LIMIT, max(MIN_JUMP_LIMIT, math.ceil(JUMP_LIMIT_S * expected_hz)))


@dataclass(frozen=True, slots=True)
class GapCounts:
    """What one call saw; `last` and `high` are the state to carry into the next call.

    `lost_first_step` is the part of `lost` in the slots between the carried high-water mark
    and the call's first value (0 without carried state): a breakdown of `lost`, so left out
    of equality.
    """

    lost: int
    restarts: int
    jumps: int
    reordered: int
    last: int | None  # the last sequence, in arrival order
    high: int | None  # the current run's high-water mark (>= last)
    lost_first_step: int = field(default=0, compare=False)


def classify_gaps(
    previous_last: int | None,
    sequence: npt.ArrayLike,
    jump_limit: int,
    previous_high: int | None = None,
) -> GapCounts:
    """Count loss, restarts, jumps and reordering in `sequence` (one stream, arrival order).

    `previous_last` / `previous_high` are the state a previous call returned (None for the
    first call, or for a window looked at on its own); the step from `previous_last` to
    the first new value is classified like any other.
    """
    if not 1 <= jump_limit <= MAX_JUMP_LIMIT:
        raise ValueError(f"jump_limit must be in [1, {MAX_JUMP_LIMIT}], got {jump_limit}")
    new = np.asarray(sequence, dtype=np.uint64)
    if new.ndim != 1:
        raise ValueError(f"sequence must be one-dimensional, got shape {new.shape}")
    if new.size == 0:
        return GapCounts(0, 0, 0, 0, previous_last, _carried_high(previous_last, previous_high))
    consecutive = _consecutive_counts(previous_last, previous_high, new, jump_limit)
    if consecutive is not None:
        return consecutive
    if previous_last is None:
        values, first_pair = new, 0
    else:
        high = _carried_high(previous_last, previous_high)
        values = np.concatenate((np.array([high, previous_last], dtype=np.uint64), new))
        first_pair = 1  # pair 0 (high -> last) only anchors the run; it was counted before
    counts = _monotonic_counts(values, first_pair, jump_limit)
    if counts is None:
        counts = _general_counts(values, first_pair, jump_limit)
    return counts


def _carried_high(last: int | None, high: int | None) -> int | None:
    if last is None:
        return None
    if high is None or high < last or high - last >= _MAX_CARRIED_LAG:
        return last
    return high


def _consecutive_counts(
    previous_last: int | None, previous_high: int | None, new: npt.NDArray[np.uint64], jump_limit: int
) -> GapCounts | None:
    """The commonest case, cheapest: the new values count up by one, from a step forward of
    at most jump_limit past the carried state (when that is its own high-water mark)."""
    first, last = int(new[0]), int(new[-1])
    # Spanning exactly size - 1 and strictly increasing: consecutive.
    if last - first != new.size - 1 or not (new[1:] > new[:-1]).all():
        return None
    if previous_last is None:
        return GapCounts(0, 0, 0, 0, last, last)
    if _carried_high(previous_last, previous_high) != previous_last or not 1 <= first - previous_last <= jump_limit:
        return None
    lost = first - previous_last - 1
    return GapCounts(lost, 0, 0, 0, last, last, lost)


def _monotonic_counts(values: npt.NDArray[np.uint64], first_pair: int, jump_limit: int) -> GapCounts | None:
    """The common case, cheaply: every counted step goes forward by 1..jump_limit."""
    if first_pair == 1 and values[0] != values[1]:
        return None  # the carried last sample was late: measure against the high-water mark
    later, earlier = values[first_pair + 1 :], values[first_pair:-1]
    if not (np.all(later > earlier) and np.all(later - earlier <= np.uint64(jump_limit))):
        return None
    last = int(values[-1])
    lost = last - int(values[first_pair]) - later.size
    first_step = int(values[2]) - int(values[1]) - 1 if first_pair == 1 else 0
    return GapCounts(lost, 0, 0, 0, last, last, first_step)


def _general_counts(values: npt.NDArray[np.uint64], first_pair: int, jump_limit: int) -> GapCounts:
    """Any mix of gaps, restarts, jumps and late samples (see the module docstring)."""
    later, earlier = values[1:], values[:-1]
    forward = later > earlier
    distance = np.where(forward, later - earlier, earlier - later)  # exact in uint64
    restart = ~forward & (later <= RESTART_MAX_SEQUENCE) & (distance > REORDER_WINDOW)
    jump = ~restart & (distance > np.uint64(jump_limit))
    restart[:first_pair] = False
    jump[:first_pair] = False
    boundary = restart | jump

    # Within a run every step is at most jump_limit (or the carried lag), so positions
    # relative to the run fit int64; steps across run boundaries are set to 0.
    step = distance.astype(np.int64)
    step[boundary] = 0
    np.negative(step, out=step, where=~forward)
    position = np.concatenate((np.zeros(1, np.int64), np.cumsum(step)))

    # Shift each run into its own range, above every earlier run, so that one running
    # maximum over the whole call is each run's high-water mark.
    run_of = np.concatenate((np.zeros(1, np.int64), np.cumsum(boundary)))
    run_start = np.concatenate((np.zeros(1, np.intp), np.flatnonzero(boundary) + 1))
    run_low = np.minimum.reduceat(position, run_start)
    run_high = np.maximum.reduceat(position, run_start)
    run_offset = np.concatenate((np.zeros(1, np.int64), np.cumsum(run_high - run_low + 1)[:-1]))
    shifted = position - run_low[run_of] + run_offset[run_of]
    high_water = np.maximum.accumulate(shifted)

    counted = slice(first_pair, None)
    late = ~boundary[counted] & (shifted[first_pair + 1 :] <= high_water[first_pair:-1])

    # Loss per run: the slots above the run's first value (or above the carried high-water
    # mark) up to its highest value, minus the distinct values that filled them.
    floor = shifted[run_start] - 1
    above = shifted > floor[run_of]
    above[1:first_pair + 1] = False  # the carried last sample: the high-water mark or late
    run_end = np.append(run_start[1:] - 1, shifted.size - 1)
    expected = int(np.sum(high_water[run_end] - floor))
    # Without late samples every value above its floor is new: no need to sort for uniques.
    reordered = int(np.count_nonzero(late))
    filled = np.unique(shifted[above]).size if reordered else int(np.count_nonzero(above))
    last = int(values[-1])
    return GapCounts(
        lost=expected - filled,
        restarts=int(np.count_nonzero(restart)),
        jumps=int(np.count_nonzero(jump)),
        reordered=reordered,
        last=last,
        high=last + int(high_water[-1] - shifted[-1]),
        lost_first_step=_first_step_loss(shifted, run_of, boundary) if first_pair == 1 else 0,
    )


def _first_step_loss(
    shifted: npt.NDArray[np.int64], run_of: npt.NDArray[Any], boundary: npt.NDArray[np.bool_]
) -> int:
    """With carried state (values = high, last, new...): the slots strictly between the carried
    high-water mark and the first new value that no value of the call filled."""
    if boundary[1]:
        return 0  # the first new value starts a new run: a restart or a jump, never loss
    high, first = int(shifted[0]), int(shifted[2])
    if first <= high + 1:
        return 0
    new = shifted[2:]
    inside = new[(run_of[2:] == 0) & (new > high) & (new < first)]
    return first - high - 1 - int(np.unique(inside).size)


@dataclass(frozen=True, slots=True)
class SequenceTotals:
    """A stream's sequence counts since it was first seen, as published (msg/StreamStats:
    the field names are the message's)."""

    received_total: int
    lost_total: int
    restarts_total: int
    jumps_total: int
    reordered_total: int


class SequenceTracker:
    """One stream's sequence state across ticks, with running totals since first seen."""

    def __init__(self, jump_limit: int = DEFAULT_JUMP_LIMIT) -> None:
        self.jump_limit = jump_limit  # callers update it when the expected rate becomes known
        self.last: int | None = None
        self.high: int | None = None
        self.received_total = 0
        self.lost_total = 0
        self.restarts_total = 0
        self.jumps_total = 0
        self.reordered_total = 0

    def update(self, sequence: npt.ArrayLike) -> GapCounts:
        """Account for the samples that arrived since the last call, in arrival order."""
        counts = classify_gaps(self.last, sequence, self.jump_limit, self.high)
        self.last, self.high = counts.last, counts.high
        self.received_total += int(np.size(sequence))
        self.lost_total += counts.lost
        self.restarts_total += counts.restarts
        self.jumps_total += counts.jumps
        self.reordered_total += counts.reordered
        return counts

    def totals(self) -> SequenceTotals:
        """The running totals as one record, for the stats message."""
        return SequenceTotals(
            self.received_total, self.lost_total, self.restarts_total, self.jumps_total, self.reordered_total
        )
