"""The stream statistics of DESIGN.md ("Stats, defined once"), as one pure function.

`window_stats` takes one stream's columns (numpy arrays, arrival order; usually the views of
a `StreamBuffer`) and returns a frozen `StreamWindowStats`. Definitions:

- window: samples received in [now - window, now]. The length the rates are divided by is
  `window_s` = min(window, now - first_seen): a stream younger than the window is not
  under-reported while its window fills (its first figures are rough: +-1 sample over a
  short span). NaN rates when that length is <= 0.
- rate_hz = received / window_s; bytes_per_s = payload bytes received / window_s;
  rate_ratio = rate_hz / expected_hz.
- latency = receive time (aggregator clock) - source time (vehicle clock), in ms:
  p50, p90, p99 (numpy's linear interpolation between order statistics, exact on the
  samples) and max. The corrected figures add the clock offset (vehicle - aggregator), so
  they read as if both clocks agreed.
- jitter_ms = population standard deviation of inter-arrival intervals at the aggregator
  (NaN with fewer than 3 samples, i.e. fewer than 2 intervals).
- lost / restarts / jumps / reordered: `classify_gaps` over the window's sequence numbers
  alone (see telemetry.fleet.sequence: restarts and jumps are never loss).
- stale: nothing received for `stale_after_ns(expected_hz)` = max(1 s, 3 expected periods),
  3 s when the rate is unknown (the rule for a 1 Hz stream, the slowest the fleet expects).
  A stream that never delivered is measured from `first_seen_ns`.

Values that cannot be known (no samples, no expected rate, no clock offset) are NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from telemetry.fleet.sequence import classify_gaps, jump_limit_for

__all__ = [
    "MIN_STALE_NS",
    "STALE_PERIODS",
    "UNKNOWN_RATE_STALE_NS",
    "StreamWindowStats",
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
    receive_ns: npt.NDArray[np.int64],
    source_ns: npt.NDArray[np.int64],
    sequence: npt.NDArray[np.uint64],
    size: npt.NDArray[np.int64],
    *,
    now_ns: int,
    window_ns: int,
    expected_hz: float | None,
    first_seen_ns: int,
    last_receive_ns: int | None = None,
    clock_offset_ns: float | None = None,
    jump_limit: int | None = None,
) -> StreamWindowStats:
    """Statistics of one stream's samples received in [now_ns - window_ns, now_ns].

    The columns are in arrival order with non-decreasing `receive_ns` (older samples may be
    present: they are cut off here by binary search). `last_receive_ns` is the stream's
    latest arrival ever (a trimmed buffer forgets it); `jump_limit` defaults to
    `jump_limit_for(expected_hz)`.
    """
    if window_ns <= 0:
        raise ValueError(f"window_ns must be > 0, got {window_ns}")
    if not receive_ns.shape == source_ns.shape == sequence.shape == size.shape:
        raise ValueError(
            "columns must have equal shapes, got "
            f"{receive_ns.shape}, {source_ns.shape}, {sequence.shape}, {size.shape}"
        )
    newest = int(receive_ns[-1]) if receive_ns.size else None  # may be older than the window
    if newest is not None and (last_receive_ns is None or newest > last_receive_ns):
        last_receive_ns = newest
    first = int(np.searchsorted(receive_ns, now_ns - window_ns, side="left"))
    receive_ns, source_ns, sequence, size = receive_ns[first:], source_ns[first:], sequence[first:], size[first:]
    received = int(receive_ns.size)

    span_ns = min(window_ns, now_ns - first_seen_ns)
    span_s = span_ns / 1e9 if span_ns > 0 else _NAN
    rate_hz = received / span_s
    expected = _rate_or_nan(expected_hz)

    latency_ms = _latency_ms(receive_ns, source_ns)
    offset_ms = _NAN if clock_offset_ns is None else clock_offset_ns / 1e6
    gaps = classify_gaps(None, sequence, jump_limit if jump_limit is not None else jump_limit_for(expected_hz))

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
        jitter_ms=float(np.diff(receive_ns).std()) / 1e6 if received >= 3 else _NAN,
        received=received,
        lost=gaps.lost,
        restarts=gaps.restarts,
        jumps=gaps.jumps,
        reordered=gaps.reordered,
        bytes_per_s=float(size.sum()) / span_s,
        stale=now_ns - silent_since_ns > stale_after_ns(expected_hz),
        last_receive_ns=last_receive_ns,
    )


def _latency_ms(receive_ns: npt.NDArray[np.int64], source_ns: npt.NDArray[np.int64]) -> tuple[float, ...]:
    """p50, p90, p99 and max of receive - source, in ms; NaNs when there are no samples."""
    if receive_ns.size == 0:
        return (_NAN,) * 4
    latency_ns = receive_ns - source_ns
    p50, p90, p99 = np.percentile(latency_ns, _PERCENTILES)
    return (float(p50) / 1e6, float(p90) / 1e6, float(p99) / 1e6, float(latency_ns.max()) / 1e6)


def _rate_or_nan(expected_hz: float | None) -> float:
    """The expected rate, or NaN when unknown (None, NaN, infinite or <= 0)."""
    if expected_hz is None or not math.isfinite(expected_hz) or expected_hz <= 0:
        return _NAN
    return float(expected_hz)
