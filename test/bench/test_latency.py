"""The benchmarks' stream maths: percentiles, rate and loss from recorded arrays."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from telemetry.bench.latency import measure_stream
from telemetry.bench.procstat import cpu_seconds, rss_mb


def _arrays(
    latencies_ms: list[float], sequences: list[int]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    source = np.arange(len(latencies_ms), dtype=np.int64) * 1_000_000
    receive = source + (np.array(latencies_ms) * 1e6).astype(np.int64)
    return receive, source, np.array(sequences, dtype=np.uint64), np.full(len(latencies_ms), 316, dtype=np.int64)


def test_percentiles_rate_and_bandwidth_come_from_the_recorded_samples() -> None:
    latencies = [float(i) for i in range(1, 101)]  # 1..100 ms
    measure = measure_stream(*_arrays(latencies, list(range(1, 101))), window_s=2.0)
    assert measure.samples == 100 and measure.rate_hz == 50.0 and measure.lost == 0
    assert measure.latency_ms["p50"] == pytest.approx(50.5)
    assert measure.latency_ms["p99"] == pytest.approx(99.01)
    assert measure.latency_ms["max"] == 100.0
    assert measure.bytes_per_s == 100 * 316 / 2.0


def test_missing_sequence_numbers_between_first_and_last_are_loss_and_duplicates_are_not() -> None:
    measure = measure_stream(*_arrays([1.0] * 6, [10, 11, 13, 13, 16, 17]), window_s=1.0)
    assert measure.lost == 3  # 12, 14, 15


def test_an_empty_stream_has_no_rate_and_unknown_latency() -> None:
    empty = np.array([], dtype=np.int64)
    measure = measure_stream(empty, empty, empty.astype(np.uint64), empty, window_s=1.0)
    assert measure.samples == 0 and measure.rate_hz == 0.0
    assert math.isnan(measure.latency_ms["p50"])


def test_the_row_rounds_and_names_every_percentile() -> None:
    row = measure_stream(*_arrays([0.3, 0.4], [1, 2]), window_s=1.0).as_row()
    assert list(row) == ["samples", "rate_hz", "lost", "p50_ms", "p90_ms", "p99_ms", "p99.9_ms", "max_ms", "MB_per_s"]


def test_this_process_has_cpu_time_and_memory_and_a_gone_one_has_none() -> None:
    import os

    sum(range(200_000))
    assert cpu_seconds(os.getpid()) > 0 and rss_mb(os.getpid()) > 10
    assert cpu_seconds(2**22 + 7) == 0.0 and rss_mb(2**22 + 7) == 0.0
