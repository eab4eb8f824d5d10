"""StreamBuffer: bounded columns that append at the end, trim from the front, never grow past capacity."""

from __future__ import annotations

import numpy as np
import pytest

from telemetry.fleet.buffer import DEFAULT_CAPACITY, StreamBuffer


def samples(first: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`count` samples numbered from `first`: received at 1 ms x number, sent 0.5 ms earlier."""
    number = np.arange(first, first + count, dtype=np.int64)
    return number * 1_000_000, number * 1_000_000 - 500_000, number.astype(np.uint64), number % 7 + 100


def assert_holds(buffer: StreamBuffer, first: int, count: int) -> None:
    expected = samples(first, count)
    for column, wanted in zip(buffer.columns(), expected, strict=True):
        np.testing.assert_array_equal(column, wanted)
    assert len(buffer) == count


def test_a_new_buffer_is_empty_with_the_default_capacity() -> None:
    buffer = StreamBuffer()
    assert len(buffer) == 0
    assert buffer.capacity == DEFAULT_CAPACITY == 65_536
    assert buffer.last_receive_ns is None
    assert all(column.size == 0 for column in buffer.columns())


def test_extend_appends_samples_in_order_across_many_calls() -> None:
    buffer = StreamBuffer(capacity=10_000)
    for start in range(1, 5001, 100):
        buffer.extend(*samples(start, 100))
    assert_holds(buffer, 1, 5000)
    assert buffer.overflowed == 0
    assert buffer.last_receive_ns == 5000 * 1_000_000


def test_the_columns_have_the_documented_types_and_are_read_only() -> None:
    buffer = StreamBuffer()
    buffer.extend(*samples(1, 10))
    columns = buffer.columns()
    assert [column.dtype for column in columns] == [np.int64, np.int64, np.uint64, np.int64]
    with pytest.raises(ValueError, match="read-only"):
        columns.receive_ns[0] = 0


def test_trim_drops_samples_received_before_a_time() -> None:
    buffer = StreamBuffer()
    buffer.extend(*samples(1, 1000))
    assert buffer.trim(301 * 1_000_000) == 300
    assert_holds(buffer, 301, 700)
    assert buffer.trim(0) == 0
    assert buffer.trim(2000 * 1_000_000) == 700
    assert len(buffer) == 0
    assert buffer.last_receive_ns == 1000 * 1_000_000  # kept for staleness


def test_a_sliding_window_keeps_exactly_the_recent_samples_and_bounded_storage() -> None:
    buffer = StreamBuffer(capacity=65_536)
    for tick in range(200):  # 1 kHz for 100 s, 500 samples a tick, 5 s window
        buffer.extend(*samples(1 + tick * 500, 500))
        buffer.trim((tick + 1) * 500 * 1_000_000 - 5_000_000_000 + 1)
    assert_holds(buffer, 100_000 - 5000 + 1, 5000)
    assert buffer.overflowed == 0
    assert buffer.storage <= 2 * 5500  # within 2x of the live samples plus a tick, far below capacity


def test_more_samples_than_capacity_keep_the_newest_and_count_the_rest() -> None:
    buffer = StreamBuffer(capacity=1000)
    buffer.extend(*samples(1, 600))
    buffer.extend(*samples(601, 600))
    assert_holds(buffer, 201, 1000)
    assert buffer.overflowed == 200
    buffer.extend(*samples(1201, 2500))
    assert_holds(buffer, 2701, 1000)
    assert buffer.overflowed == 200 + 1000 + 1500


def test_storage_never_exceeds_a_third_more_than_capacity_under_a_flood() -> None:
    buffer = StreamBuffer(capacity=3000)
    for start in range(1, 100_000, 777):
        buffer.extend(*samples(start, 777))
        assert len(buffer) <= 3000
        assert buffer.storage <= 3000 + 3000 // 3 + 1
    assert_holds(buffer, start + 777 - 3000, 3000)


def test_storage_shrinks_after_a_burst_is_trimmed() -> None:
    buffer = StreamBuffer()
    buffer.extend(*samples(1, 50_000))
    grown = buffer.storage
    buffer.trim(49_991 * 1_000_000)
    assert buffer.storage < grown // 8
    assert_holds(buffer, 49_991, 10)


def test_extend_rejects_columns_of_different_lengths() -> None:
    buffer = StreamBuffer()
    receive_ns, source_ns, sequence, size = samples(1, 10)
    with pytest.raises(ValueError, match=r"equal length, got receive_ns=\(10,\), source_ns=\(9,\)"):
        buffer.extend(receive_ns, source_ns[:9], sequence, size)


def test_a_buffer_needs_a_positive_capacity() -> None:
    with pytest.raises(ValueError, match="capacity must be >= 1, got 0"):
        StreamBuffer(capacity=0)
