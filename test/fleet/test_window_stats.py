"""window_stats against synthetic arrival series whose answers are known in advance.

Most tests describe a stream sample by sample (receive time, source time, sequence, size)
and hand it over as one tick: one arrival per sample, and the findings of a fresh
SequenceTracker-style count at the first sample (`series`). The tests at the end build the
arrival columns and gap rows by hand: batches, findings of several ticks, the window's edge.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from telemetry.fleet.buffer import BufferColumns, GapRows, StreamBuffer
from telemetry.fleet.sequence import SequenceTracker, classify_gaps, jump_limit_for
from telemetry.fleet.stats import StreamWindowStats, stale_after_ns, window_stats

MS = 1_000_000
SECOND = 1_000_000_000
WINDOW = 5 * SECOND
T0 = 1_700_000_000 * SECOND  # a realistic epoch, so int64 arithmetic is exercised

#: A stream sample by sample: (receive_ns, source_ns, sequence, size).
Columns = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[np.int64]]


def periodic(hz: float, seconds: float, latency_ns: int = 300_000, start_ns: int = T0, size: int = 100) -> Columns:
    """A perfect stream: sample k received at start + k/hz, sent `latency_ns` earlier."""
    count = round(hz * seconds)
    receive_ns = start_ns + np.round(np.arange(count) * (SECOND / hz)).astype(np.int64)
    sequence = np.arange(1, count + 1, dtype=np.uint64)
    return receive_ns, receive_ns - latency_ns, sequence, np.full(count, size, np.int64)


def series(
    receive_ns: npt.NDArray[np.int64],
    source_ns: npt.NDArray[np.int64],
    sequence: npt.NDArray[np.uint64],
    size: npt.NDArray[np.int64],
    expected_hz: float | None = 1000.0,
) -> tuple[BufferColumns, GapRows]:
    """A sample-by-sample series as one tick: one arrival per sample, its findings at the first."""
    count = receive_ns.size
    latency_ns = receive_ns - source_ns
    base_ns = int(latency_ns[0]) if count else 0
    arrivals = BufferColumns(receive_ns, np.ones(count, np.int32), size, (latency_ns - base_ns).astype(np.float32),
                             base_ns)
    found = classify_gaps(None, sequence, jump_limit_for(expected_hz))
    rows = [(int(receive_ns[0]), found.lost, found.restarts, found.jumps, found.reordered)] if count else []
    return arrivals, gap_rows(rows)


def gap_rows(rows: list[tuple[int, int, int, int, int]]) -> GapRows:
    """Rows of (at_ns, lost, restarts, jumps, reordered)."""
    columns = np.array(rows, dtype=np.int64).reshape(-1, 5).T
    return GapRows(*(np.ascontiguousarray(column) for column in columns))


def stats_of(columns: Columns, *, now_ns: int, expected_hz: float | None = 1000.0,
             first_seen_ns: int = T0 - 60 * SECOND, **options: Any) -> StreamWindowStats:
    return window_stats(*series(*columns, expected_hz=expected_hz), now_ns=now_ns, window_ns=WINDOW,
                        expected_hz=expected_hz, first_seen_ns=first_seen_ns, **options)


def test_one_kilohertz_for_five_seconds_is_exactly_one_thousand_hertz() -> None:
    columns = periodic(1000, 5)
    stats = stats_of(columns, now_ns=T0 + WINDOW - 1)  # window [T0 - 1 ns, T0 + 5 s - 1 ns]
    assert stats.received == 5000
    assert stats.rate_hz == 1000.0
    assert stats.rate_ratio == 1.0
    assert stats.expected_hz == 1000.0
    assert stats.window_s == 5.0
    assert stats.bytes_per_s == 100_000.0
    assert stats.lost == 0
    assert not stats.stale


def test_only_samples_inside_the_window_are_counted() -> None:
    columns = periodic(1000, 20)
    stats = stats_of(columns, now_ns=T0 + 20 * SECOND - 1)
    assert stats.received == 5000
    assert stats.rate_hz == 1000.0


def test_a_stream_younger_than_the_window_is_rated_over_its_age() -> None:
    columns = periodic(1000, 0.5)
    stats = stats_of(columns, now_ns=T0 + SECOND // 2, first_seen_ns=T0)
    assert stats.window_s == 0.5
    assert stats.rate_hz == 1000.0


def test_an_unknown_expected_rate_gives_nan_ratio_and_a_three_second_stale_time() -> None:
    stats = stats_of(periodic(10, 5), now_ns=T0 + WINDOW, expected_hz=None)
    assert math.isnan(stats.expected_hz) and math.isnan(stats.rate_ratio)
    assert stats.rate_hz == 10.0
    assert stale_after_ns(None) == stale_after_ns(float("nan")) == stale_after_ns(0.0) == 3 * SECOND


def test_latency_percentiles_of_a_uniform_distribution_are_within_one_step() -> None:
    latency_ns = np.arange(1, 1001, dtype=np.int64) * 1000  # 1..1000 µs, in a scrambled order
    np.random.default_rng(7).shuffle(latency_ns)
    receive_ns, _, sequence, size = periodic(200, 5)
    stats = stats_of((receive_ns, receive_ns - latency_ns, sequence, size), now_ns=T0 + WINDOW)
    step_ms = 0.001
    assert stats.latency_p50_ms == pytest.approx(0.500, abs=step_ms)
    assert stats.latency_p90_ms == pytest.approx(0.900, abs=step_ms)
    assert stats.latency_p99_ms == pytest.approx(0.990, abs=step_ms)
    assert stats.latency_max_ms == 1.0


def test_corrected_latency_adds_the_vehicle_clock_offset() -> None:
    # The vehicle's clock is 250 ms ahead: raw latency reads 0.3 ms - 250 ms.
    receive_ns, source_ns, sequence, size = periodic(100, 5, latency_ns=300_000)
    stats = stats_of((receive_ns, source_ns + 250 * MS, sequence, size), now_ns=T0 + WINDOW,
                     clock_offset_ns=250 * MS)
    assert stats.latency_p50_ms == pytest.approx(-249.7)
    assert stats.corrected_latency_p50_ms == pytest.approx(0.3)
    assert stats.corrected_latency_max_ms == pytest.approx(0.3)
    assert math.isnan(stats_of((receive_ns, source_ns, sequence, size), now_ns=T0 + WINDOW).corrected_latency_p99_ms)


def test_the_jitter_of_a_perfectly_periodic_stream_is_zero() -> None:
    stats = stats_of(periodic(1000, 5), now_ns=T0 + WINDOW)
    assert stats.jitter_ms == pytest.approx(0.0, abs=1e-9)


def test_the_jitter_of_alternating_one_and_three_ms_intervals_is_one_ms() -> None:
    intervals_ns = np.tile([1 * MS, 3 * MS], 1000)
    receive_ns = T0 + np.concatenate(([0], np.cumsum(intervals_ns)))
    count = receive_ns.size
    columns = (receive_ns, receive_ns - MS, np.arange(1, count + 1, dtype=np.uint64), np.zeros(count, np.int64))
    stats = stats_of(columns, now_ns=int(receive_ns[-1]))
    assert stats.jitter_ms == pytest.approx(float(np.std(intervals_ns)) / MS)
    assert stats.jitter_ms == pytest.approx(1.0)


def test_jitter_needs_at_least_three_samples() -> None:
    receive_ns, source_ns, sequence, size = periodic(10, 0.2)
    assert receive_ns.size == 2
    assert math.isnan(stats_of((receive_ns, source_ns, sequence, size), now_ns=T0 + SECOND).jitter_ms)


def test_dropping_every_tenth_sample_is_counted_as_lost_exactly() -> None:
    receive_ns, source_ns, sequence, size = periodic(1000, 5)
    kept = sequence % 10 != 0
    stats = stats_of((receive_ns[kept], source_ns[kept], sequence[kept], size[kept]), now_ns=T0 + WINDOW)
    assert stats.received == 4500
    assert stats.lost == 499  # 10 .. 4990; 5000 was the last sample and never came
    assert stats.rate_hz == 900.0


def test_a_bridge_restart_mid_window_is_a_restart_and_not_loss() -> None:
    receive_ns, source_ns, sequence, size = periodic(1000, 5)
    sequence = np.concatenate((np.arange(7001, 9501), np.arange(1, 2501))).astype(np.uint64)
    stats = stats_of((receive_ns, source_ns, sequence, size), now_ns=T0 + WINDOW)
    assert (stats.restarts, stats.lost, stats.jumps) == (1, 0, 0)
    assert stats.received == 5000


def test_a_billion_sample_jump_mid_window_is_a_jump_and_not_loss() -> None:
    receive_ns, source_ns, sequence, size = periodic(1000, 5)
    sequence = sequence.copy()
    sequence[2500:] += np.uint64(1_000_000_000)
    stats = stats_of((receive_ns, source_ns, sequence, size), now_ns=T0 + WINDOW)
    assert (stats.jumps, stats.lost, stats.restarts) == (1, 0, 0)


def test_reordered_samples_are_counted_and_not_lost() -> None:
    receive_ns, source_ns, sequence, size = periodic(1000, 5)
    sequence = sequence.copy()
    sequence[[100, 101]] = sequence[[101, 100]]
    sequence[[2000, 2003]] = sequence[[2003, 2000]]
    stats = stats_of((receive_ns, source_ns, sequence, size), now_ns=T0 + WINDOW)
    # 101 after 102; then 2004, 2002, 2003, 2001: three arrive after the high-water mark 2004.
    assert (stats.reordered, stats.lost) == (4, 0)


def test_a_stream_is_stale_after_three_expected_periods() -> None:
    columns = periodic(10, 5)  # last sample at T0 + 4.9 s; 3 periods = 300 ms, but at least 1 s
    last_ns = int(columns[0][-1])
    assert not stats_of(columns, now_ns=last_ns + SECOND, expected_hz=10.0).stale
    assert stats_of(columns, now_ns=last_ns + SECOND + 1, expected_hz=10.0).stale
    columns = periodic(0.5, 10)  # 3 periods of a 0.5 Hz stream: 6 s
    last_ns = int(columns[0][-1])
    assert not stats_of(columns, now_ns=last_ns + 6 * SECOND, expected_hz=0.5).stale
    assert stats_of(columns, now_ns=last_ns + 6 * SECOND + 1, expected_hz=0.5).stale
    assert stale_after_ns(1000.0) == SECOND and stale_after_ns(0.5) == 6 * SECOND


def test_an_empty_window_is_stale_from_the_last_arrival_and_has_nan_latency() -> None:
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint64), np.empty(0, np.int64))
    stats = stats_of(empty, now_ns=T0 + 10 * SECOND, last_receive_ns=T0 + 8 * SECOND)
    assert stats.received == 0 and stats.rate_hz == 0.0 and stats.lost == 0
    assert math.isnan(stats.latency_p50_ms) and math.isnan(stats.latency_max_ms) and math.isnan(stats.jitter_ms)
    assert stats.stale and stats.last_receive_ns == T0 + 8 * SECOND
    assert not stats_of(empty, now_ns=T0 + 8 * SECOND + SECOND, last_receive_ns=T0 + 8 * SECOND).stale


def test_a_stream_that_never_sent_is_stale_from_when_it_was_first_seen() -> None:
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint64), np.empty(0, np.int64))
    assert not stats_of(empty, now_ns=T0 + SECOND, first_seen_ns=T0).stale
    stats = stats_of(empty, now_ns=T0 + SECOND + 1, first_seen_ns=T0)
    assert stats.stale and stats.last_receive_ns is None


def test_the_views_of_a_stream_buffer_feed_window_stats_directly() -> None:
    buffer, tracker = StreamBuffer(), SequenceTracker()
    receive_ns, source_ns, sequence, size = periodic(1000, 10)
    for tick in range(20):  # 10 s in ticks of 0.5 s
        due = slice(500 * tick, 500 * (tick + 1))
        buffer.extend(receive_ns[due], np.ones(500), size[due], receive_ns[due] - source_ns[due],
                      tracker.update(sequence[due]))
    buffer.trim(T0 + 10 * SECOND - WINDOW)
    stats = window_stats(buffer.columns(), buffer.gap_rows(), now_ns=T0 + 10 * SECOND, window_ns=WINDOW,
                         expected_hz=1000.0, first_seen_ns=T0, last_receive_ns=buffer.last_receive_ns)
    assert stats.received == 5000 and stats.rate_hz == 1000.0 and stats.lost == 0
    assert stats.latency_p50_ms == pytest.approx(0.3) and stats.bytes_per_s == 100_000.0


def test_window_stats_rejects_columns_of_different_shapes() -> None:
    arrivals, gaps = series(*periodic(10, 1))
    with pytest.raises(ValueError, match=r"columns must have equal shapes, got \(10,\), \(9,\)"):
        window_stats(arrivals._replace(samples=arrivals.samples[:9]), gaps, now_ns=T0, window_ns=WINDOW,
                     expected_hz=10.0, first_seen_ns=T0)
    with pytest.raises(ValueError, match=r"latencies must be one per sample \(10\), got shape \(9,\)"):
        window_stats(arrivals._replace(latency_from_base_ns=arrivals.latency_from_base_ns[:9]), gaps, now_ns=T0,
                     window_ns=WINDOW, expected_hz=10.0, first_seen_ns=T0)
    with pytest.raises(ValueError, match=r"gap rows must have equal shapes"):
        window_stats(arrivals, gaps._replace(lost=np.zeros(2, np.int64)), now_ns=T0, window_ns=WINDOW,
                     expected_hz=10.0, first_seen_ns=T0)


def test_window_stats_rejects_an_empty_window() -> None:
    with pytest.raises(ValueError, match="window_ns must be > 0, got 0"):
        window_stats(*series(*periodic(10, 1)), now_ns=T0, window_ns=0, expected_hz=10.0, first_seen_ns=T0)


# --- hand-made arrivals and gap rows --------------------------------------------------------


def batches(receive_ns: list[int], count: list[int], latency_ns: list[int], size: int = 316) -> BufferColumns:
    """Arrivals of `count[i]` samples at `receive_ns[i]` (offsets from T0), their latencies in order."""
    counts = np.array(count, np.int32)
    latency = np.array(latency_ns, np.int64)
    return BufferColumns(T0 + np.array(receive_ns, np.int64), counts, size * counts.astype(np.int64),
                         (latency - 300_000).astype(np.float32), 300_000)


NO_GAPS = gap_rows([])


def test_the_samples_of_a_batch_count_as_received_together_with_their_bytes() -> None:
    arrivals = batches([100 * MS, 600 * MS, 1100 * MS], [50, 50, 50], [300_000] * 150)
    stats = window_stats(arrivals, NO_GAPS, now_ns=T0 + 5 * SECOND + 200 * MS, window_ns=WINDOW, expected_hz=100.0,
                         first_seen_ns=T0 - 60 * SECOND)
    # The window [T0 + 0.2 s, T0 + 5.2 s] leaves the first batch out, whole.
    assert stats.received == 100 and stats.rate_hz == 20.0 and stats.bytes_per_s == 100 * 316 / 5


def test_the_jitter_of_batches_counts_the_zero_intervals_inside_each_batch() -> None:
    # Two batches of three samples, 10 ms apart: intervals 0, 0, 10, 0, 0 ms.
    arrivals = batches([0, 10 * MS], [3, 3], [300_000] * 6)
    stats = window_stats(arrivals, NO_GAPS, now_ns=T0 + SECOND, window_ns=WINDOW, expected_hz=None, first_seen_ns=T0)
    assert stats.jitter_ms == pytest.approx(float(np.std([0, 0, 10, 0, 0])))


def test_latency_percentiles_interpolate_like_numpy_between_the_samples_of_every_arrival() -> None:
    latency_ns = [900_000, 100_000, 500_000, 700_000, 300_000, 1_100_000, 200_000]
    arrivals = batches([0, 5 * MS, 9 * MS], [3, 2, 2], latency_ns)
    stats = window_stats(arrivals, NO_GAPS, now_ns=T0 + SECOND, window_ns=WINDOW, expected_hz=None, first_seen_ns=T0)
    p50, p90, p99 = np.percentile(latency_ns, (50, 90, 99)) / 1e6
    assert (stats.latency_p50_ms, stats.latency_p90_ms, stats.latency_p99_ms) == pytest.approx((p50, p90, p99))
    assert stats.latency_max_ms == 1.1


def test_gap_rows_count_while_their_time_is_in_the_window() -> None:
    arrivals = batches([0], [1], [300_000])
    rows = gap_rows([(T0 - 2 * SECOND, 5, 1, 0, 0), (T0 + 3 * SECOND, 2, 0, 1, 0), (T0 + 4 * SECOND, 1, 0, 0, 4)])
    stats = window_stats(arrivals, rows, now_ns=T0 + 5 * SECOND, window_ns=WINDOW, expected_hz=None, first_seen_ns=T0)
    assert (stats.lost, stats.restarts, stats.jumps, stats.reordered) == (3, 0, 1, 4)


def test_a_gap_across_the_window_start_is_left_out_and_the_next_ones_are_counted() -> None:
    """Every tenth sample missing, fed in ticks: the window's loss is that of its own gaps, as if
    it were looked at alone: the gap at the tick boundary it starts on belongs to the sample before."""
    buffer, tracker = StreamBuffer(), SequenceTracker()
    receive_ns, source_ns, sequence, size = periodic(1000, 10)
    kept = sequence % 10 != 0
    for tick in range(20):
        due = kept & (receive_ns >= T0 + tick * SECOND // 2) & (receive_ns < T0 + (tick + 1) * SECOND // 2)
        buffer.extend(receive_ns[due], np.ones(int(due.sum())), size[due], receive_ns[due] - source_ns[due],
                      tracker.update(sequence[due]))
    now_ns = T0 + 10 * SECOND
    buffer.trim(now_ns - WINDOW)
    stats = window_stats(buffer.columns(), buffer.gap_rows(), now_ns=now_ns, window_ns=WINDOW, expected_hz=1000.0,
                         first_seen_ns=T0)
    alone = kept & (receive_ns >= now_ns - WINDOW)  # the window's samples as one tick of their own
    looked_at_alone = stats_of((receive_ns[alone], source_ns[alone], sequence[alone], size[alone]), now_ns=now_ns)
    assert stats.received == looked_at_alone.received == 4500
    assert stats.lost == looked_at_alone.lost == 499  # 5010 .. 9990; 5000 fell before the window
