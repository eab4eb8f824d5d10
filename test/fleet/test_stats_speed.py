"""A micro-benchmark kept as a loose test: the aggregator's tick must stay cheap.

The bound is generous (shared CI machines); the figures are printed (`pytest -s`) for the record.
"""

from __future__ import annotations

import time

import numpy as np

from telemetry.fleet.sequence import SequenceTracker
from telemetry.fleet.stats import window_stats

SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND


def stream(count: int, hz: float, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    receive_ns = T0 + np.cumsum(rng.normal(SECOND / hz, SECOND / hz / 20, count)).astype(np.int64)
    source_ns = receive_ns - rng.integers(200_000, 3_000_000, count)
    sequence = np.arange(1, count + 1, dtype=np.uint64)
    sequence = sequence[rng.random(count) > 0.001]  # a little loss, so the counts are not trivial
    keep = sequence.size
    return receive_ns[:keep], source_ns[:keep], sequence, np.full(keep, 300, np.int64)


def best_seconds(function, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def test_window_stats_for_1000_streams_of_500_samples_takes_well_under_two_seconds() -> None:
    streams = [stream(500, 100.0, seed) for seed in range(1000)]
    now_ns = max(int(columns[0][-1]) for columns in streams)

    def tick() -> None:
        for columns in streams:
            window_stats(*columns, now_ns=now_ns, window_ns=5 * SECOND, expected_hz=100.0, first_seen_ns=T0)

    elapsed = best_seconds(tick)
    print(f"\nwindow_stats: 1000 streams x 500 samples: {elapsed * 1e3:.1f} ms per tick")
    assert elapsed < 2.0


def test_window_stats_on_a_5000_sample_window_takes_well_under_a_millisecond() -> None:
    columns = stream(5000, 1000.0, 1)
    now_ns = int(columns[0][-1])
    calls = 200

    def many() -> None:
        for _ in range(calls):
            window_stats(*columns, now_ns=now_ns, window_ns=5 * SECOND, expected_hz=1000.0, first_seen_ns=T0)

    per_call = best_seconds(many) / calls
    print(f"\nwindow_stats: one 5000-sample window: {per_call * 1e6:.0f} µs per call")
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
