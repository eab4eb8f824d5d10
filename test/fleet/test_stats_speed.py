"""A micro-benchmark kept as a loose test: the aggregator's tick must stay cheap.

The bound is generous (shared CI machines); the figures are printed (`pytest -s`) for the record.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest

from telemetry.fleet.buffer import BufferColumns, GapRows
from telemetry.fleet.sequence import SequenceTracker
from telemetry.fleet.stats import window_stats

SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND


def stream(count: int, hz: float, seed: int, batch: int = 1) -> tuple[BufferColumns, GapRows]:
    """`count` samples in arrivals of `batch`, with a little loss, as a buffer holds them."""
    rng = np.random.default_rng(seed)
    arrivals = count // batch
    receive_ns = T0 + np.cumsum(rng.normal(batch * SECOND / hz, batch * SECOND / hz / 20, arrivals)).astype(np.int64)
    latency_ns = rng.integers(200_000, 3_000_000, arrivals * batch)
    columns = BufferColumns(receive_ns, np.full(arrivals, batch, np.int32), np.full(arrivals, 300 * batch, np.int64),
                            (latency_ns - 1_000_000).astype(np.float32), 1_000_000)
    ticks = np.arange(10, dtype=np.int64)  # a row per tick, as if every tick saw some loss
    gaps = GapRows(T0 + ticks * SECOND // 2, ticks % 2, ticks * 0, ticks * 0, ticks * 0)
    return columns, gaps


def best_seconds(function: Callable[[], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def test_window_stats_for_1000_streams_of_500_samples_takes_under_two_seconds() -> None:
    streams = [stream(500, 100.0, seed) for seed in range(1000)]
    now_ns = max(int(columns.receive_ns[-1]) for columns, _ in streams)

    def tick() -> None:
        for columns, gaps in streams:
            window_stats(columns, gaps, now_ns=now_ns, window_ns=5 * SECOND, expected_hz=100.0, first_seen_ns=T0)

    elapsed = best_seconds(tick)
    print(f"\nwindow_stats: 1000 streams x 500 samples: {elapsed * 1e3:.1f} ms per tick")
    assert elapsed < 2.0


@pytest.mark.parametrize("batch", [1, 50])
def test_window_stats_on_a_5000_sample_window_takes_under_5_ms(batch: int) -> None:
    columns, gaps = stream(5000, 1000.0, 1, batch)
    now_ns = int(columns.receive_ns[-1])
    calls = 200

    def many() -> None:
        for _ in range(calls):
            window_stats(columns, gaps, now_ns=now_ns, window_ns=5 * SECOND, expected_hz=1000.0, first_seen_ns=T0)

    per_call = best_seconds(many) / calls
    print(f"\nwindow_stats: one 5000-sample window in arrivals of {batch}: {per_call * 1e6:.0f} µs per call")
    assert per_call < 5e-3


def test_sequence_tracking_of_a_tick_of_1000_streams_is_cheap() -> None:
    trackers = [SequenceTracker() for _ in range(1000)]
    ticks = [np.arange(1 + 50 * tick, 1 + 50 * (tick + 1), dtype=np.uint64) for tick in range(10)]

    def run() -> None:
        for sequence in ticks:
            for tracker in trackers:
                tracker.update(sequence)

    elapsed = best_seconds(run, repeats=1) / len(ticks)
    print(f"\nSequenceTracker.update: 1000 streams x 50 samples: {elapsed * 1e3:.1f} ms per tick")
    assert elapsed < 1.0
