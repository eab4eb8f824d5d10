"""The stream statistics of DESIGN.md ("Stats, defined once"), as one pure function.

`window_stats` takes one stream's arrivals and per-tick sequence findings (numpy arrays in
arrival order; usually the views of a `StreamBuffer`: telemetry.fleet.buffer says what is
kept per arrival, per sample and per tick) and returns a frozen `StreamWindowStats`.
Definitions:

- window: samples received in [now - window, now]. The length the rates are divided by is
  `window_s` = min(window, now - first_seen): a stream younger than the window is not
  under-reported while its window fills (its first figures are rough: +-1 sample over a
  short span). NaN rates when that length is <= 0.
- rate_hz = received / window_s; bytes_per_s = payload bytes received / window_s;
  rate_ratio = rate_hz / expected_hz. The samples of one batch share its receive time.
- latency = receive time (aggregator clock) - source time (vehicle clock), in ms:
  p50, p90, p99 (numpy's linear interpolation between order statistics, exact on the
  samples as kept: telemetry.fleet.buffer) and max. The corrected figures add the clock
  offset (vehicle - aggregator), so they read as if both clocks agreed.
- jitter_ms = population standard deviation of inter-arrival intervals at the aggregator,
  over the window's samples in arrival order (a batch's samples are 0 apart; NaN with fewer
  than 3 samples, i.e. fewer than 2 intervals).
- lost / restarts / jumps / reordered: the sum of what the stream's SequenceTracker found,
  tick by tick (see telemetry.fleet.sequence: restarts and jumps are never loss), over the
  findings attributed to a receive time in the window. A gap is attributed to the sample
  before it, to the resolution of a tick: the gap between two ticks to the previous tick's
  last sample, every other finding of a tick to the tick's first sample. So a gap counts
  when the sample before it is in the window, except inside a tick that straddles the
  window's start (its findings leave the window with its first sample, up to one tick early),
  and late samples are judged against the stream's whole history, not the window alone.
- stale: nothing received for `stale_after_ns(expected_hz)` = max(1 s, 3 expected periods),
  3 s when the rate is unknown (the rule for a 1 Hz stream, the slowest the fleet expects).
  A stream that never delivered is measured from `first_seen_ns`.

Values that cannot be known (no samples, no expected rate, no clock offset) are NaN.
Cost per call: binary searches and sums over the window's arrivals and gap rows, and one
partial sort (`numpy.partition`) of the window's float32 latencies.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from telemetry.fleet.buffer import BufferColumns, GapRows

__all__ = [
    "MIN_STALE_NS",
    "STALE_PERIODS",
    "UNKNOWN_RATE_STALE_NS",
    "StreamWindowStats",
    "latency_percentiles_ms",
    "stale_after_ns",
    "window_stats",
]

#: A stream is stale after this many expected periods without data...
STALE_PERIODS = 3
#: ...but never sooner than this.
MIN_STALE_NS = 1_000_000_000
#: With no expected rate: what 3 periods of a 1 Hz stream would give.
UNKNOWN_RATE_STALE_NS = 3_000_000_000

_NAN = math.nan
_PERCENTILES = (50.0, 90.0, 99.0)


@dataclass(frozen=True, slots=True)
class StreamWindowStats:
    """One stream over the sliding window (definitions: the module docstring)."""

    window_s: float
    rate_hz: float
    expected_hz: float
    rate_ratio: float
    latency_p50_ms: float
    latency_p90_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    corrected_latency_p50_ms: float
    corrected_latency_p90_ms: float
    corrected_latency_p99_ms: float
    corrected_latency_max_ms: float
    jitter_ms: float
    received: int
    lost: int
    restarts: int
    jumps: int
    reordered: int
    bytes_per_s: float
    stale: bool
    last_receive_ns: int | None


def stale_after_ns(expected_hz: float | None) -> int:
    """How long without data makes a stream stale: max(1 s, 3 / expected_hz); 3 s if unknown."""
    rate_hz = _rate_or_nan(expected_hz)
    if math.isnan(rate_hz):
        return UNKNOWN_RATE_STALE_NS
    return max(MIN_STALE_NS, math.ceil(STALE_PERIODS * 1e9 / rate_hz))


def window_stats(
    arrivals: BufferColumns,
    gaps: GapRows,
    *,
    now_ns: int,
    window_ns: int,
    expected_hz: float | None,
    first_seen_ns: int,
    last_receive_ns: int | None = None,
    clock_offset_ns: float | None = None,
) -> StreamWindowStats:
    """Statistics of one stream's samples received in [now_ns - window_ns, now_ns].

    The arrivals are in order with non-decreasing `receive_ns`, and so are the gap rows'
    `at_ns` (older entries may be present: they are cut off here by binary search).
    `last_receive_ns` is the stream's latest arrival ever (a trimmed buffer forgets it).
    """
    if window_ns <= 0:
        raise ValueError(f"window_ns must be > 0, got {window_ns}")
    receive_ns, samples, payload_bytes, latency_from_base_ns, latency_base_ns = arrivals
    if not receive_ns.shape == samples.shape == payload_bytes.shape:
        raise ValueError(
            f"columns must have equal shapes, got {receive_ns.shape}, {samples.shape}, {payload_bytes.shape}"
        )
    held = int(samples.sum(dtype=np.int64))
    if latency_from_base_ns.shape != (held,):
        raise ValueError(f"latencies must be one per sample ({held}), got shape {latency_from_base_ns.shape}")
    newest = int(receive_ns[-1]) if receive_ns.size else None  # may be older than the window
    if newest is not None and (last_receive_ns is None or newest > last_receive_ns):
        last_receive_ns = newest
    start_ns = now_ns - window_ns
    first = int(np.searchsorted(receive_ns, start_ns, side="left"))
    receive_ns = receive_ns[first:]
    received = int(samples[first:].sum(dtype=np.int64))

    span_ns = min(window_ns, now_ns - first_seen_ns)
    span_s = span_ns / 1e9 if span_ns > 0 else _NAN
    rate_hz = received / span_s
    expected = _rate_or_nan(expected_hz)

    latency_ms = _latency_ms(latency_from_base_ns[held - received :], latency_base_ns)
    offset_ms = _NAN if clock_offset_ns is None else clock_offset_ns / 1e6
    lost, restarts, jumps, reordered = _gap_sums(gaps, start_ns)

    silent_since_ns = first_seen_ns if last_receive_ns is None else last_receive_ns

    return StreamWindowStats(
        window_s=span_s,
        rate_hz=rate_hz,
        expected_hz=expected,
        rate_ratio=rate_hz / expected,
        latency_p50_ms=latency_ms[0],
        latency_p90_ms=latency_ms[1],
        latency_p99_ms=latency_ms[2],
        latency_max_ms=latency_ms[3],
        corrected_latency_p50_ms=latency_ms[0] + offset_ms,
        corrected_latency_p90_ms=latency_ms[1] + offset_ms,
        corrected_latency_p99_ms=latency_ms[2] + offset_ms,
        corrected_latency_max_ms=latency_ms[3] + offset_ms,
        jitter_ms=_jitter_ms(receive_ns, received),
        received=received,
        lost=lost,
        restarts=restarts,
        jumps=jumps,
        reordered=reordered,
        bytes_per_s=float(payload_bytes[first:].sum(dtype=np.int64)) / span_s,
        stale=now_ns - silent_since_ns > stale_after_ns(expected_hz),
        last_receive_ns=last_receive_ns,
    )


def _latency_ms(latency_from_base_ns: npt.NDArray[np.float32], base_ns: int) -> tuple[float, ...]:
    """p50, p90, p99 and max of the latencies, in ms; NaNs when there are none."""
    return latency_percentiles_ms(latency_from_base_ns, base_ns, _PERCENTILES)


def latency_percentiles_ms(
    latency_from_base_ns: npt.NDArray[np.floating[Any]], base_ns: int, percentiles: tuple[float, ...]
) -> tuple[float, ...]:
    """The `percentiles` of the latencies and then their max, in ms; NaNs when there are none.

    The one definition of a latency percentile (the aggregator's and the bench's): numpy's
    `percentile` (method "linear") on the order statistics that one `partition` of a copy
    puts in place; the interpolation runs in float64, from the base.
    """
    count = latency_from_base_ns.size
    if count == 0:
        return (_NAN,) * (len(percentiles) + 1)
    wanted, steps = _order_statistics(count, percentiles)
    ordered = np.partition(latency_from_base_ns, wanted)
    results = [_lerp(float(ordered[low]), float(ordered[high]), fraction) for low, high, fraction in steps]
    results.append(float(ordered[count - 1]))
    return tuple((base_ns + value) / 1e6 for value in results)


@functools.lru_cache(maxsize=4096)
def _order_statistics(count: int, percentiles: tuple[float, ...]) -> tuple[list[int], list[tuple[int, int, float]]]:
    """For `count` samples: the order statistics to put in place, and per percentile the two
    around it and the fraction between them (numpy's "linear" method)."""
    steps = []
    for q in percentiles:
        position = q / 100.0 * (count - 1)
        low = math.floor(position)
        steps.append((low, min(low + 1, count - 1), position - low))
    wanted = sorted({index for low, high, _ in steps for index in (low, high)} | {count - 1})
    return wanted, steps


def _lerp(low: float, high: float, fraction: float) -> float:
    """numpy's linear interpolation between two order statistics (the same rounding)."""
    step = high - low
    return high - step * (1.0 - fraction) if fraction >= 0.5 else low + step * fraction


def _jitter_ms(receive_ns: npt.NDArray[np.int64], received: int) -> float:
    """Standard deviation of the intervals between the window's samples, in ms, from its
    arrivals: an arrival of n samples adds n - 1 intervals of 0 after the one before it."""
    if received < 3:
        return _NAN
    intervals = received - 1
    mean_ns = (int(receive_ns[-1]) - int(receive_ns[0])) / intervals
    deviation = np.diff(receive_ns).astype(np.float64)
    deviation -= mean_ns
    zeros = received - receive_ns.size  # intervals inside arrivals
    variance = (float(np.dot(deviation, deviation)) + zeros * mean_ns * mean_ns) / intervals
    return math.sqrt(variance) / 1e6


def _gap_sums(gaps: GapRows, start_ns: int) -> tuple[int, int, int, int]:
    """Lost, restarts, jumps and reordered of the gap rows attributed to start_ns or later."""
    at_ns, *counts = gaps
    if not all(column.shape == at_ns.shape for column in counts):
        raise ValueError(f"gap rows must have equal shapes, got {[column.shape for column in gaps]}")
    if at_ns.size == 0:  # the common case: no tick of the stream found anything
        return 0, 0, 0, 0
    first = int(np.searchsorted(at_ns, start_ns, side="left"))
    lost, restarts, jumps, reordered = (int(column[first:].sum(dtype=np.int64)) for column in counts)
    return lost, restarts, jumps, reordered


def _rate_or_nan(expected_hz: float | None) -> float:
    """The expected rate, or NaN when unknown (None, NaN, infinite or <= 0)."""
    if expected_hz is None or not math.isfinite(expected_hz) or expected_hz <= 0:
        return _NAN
    return float(expected_hz)
