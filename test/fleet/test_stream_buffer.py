"""StreamBuffer: bounded columns that append at the end, trim from the front, never grow past capacity.

Per arrival it keeps the receive time, the number of samples and their bytes; per sample only
the latency (float32 ns from a per-stream base); per tick the sequence findings, when any."""

from __future__ import annotations

import numpy as np
import pytest

from telemetry.fleet.buffer import DEFAULT_CAPACITY, StreamBuffer
from telemetry.fleet.sequence import GapCounts

MS = 1_000_000


def samples(first: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`count` single samples numbered from `first`: received at 1 ms x number, 0.5 ms (plus a
    few ns that vary) after they were sent, of 100 + number % 7 bytes."""
    number = np.arange(first, first + count, dtype=np.int64)
    return number * MS, np.ones(count, np.int64), number % 7 + 100, 500_000 + number % 5


def assert_holds(buffer: StreamBuffer, first: int, count: int) -> None:
    """The buffer holds exactly the single samples first .. first + count - 1 of `samples`."""
    receive_ns, ones, size, latency_ns = samples(first, count)
    held = buffer.columns()
    np.testing.assert_array_equal(held.receive_ns, receive_ns)
    np.testing.assert_array_equal(held.samples, ones)
    np.testing.assert_array_equal(held.payload_bytes, size)
    np.testing.assert_array_equal(held.latency_from_base_ns.astype(np.int64) + held.latency_base_ns, latency_ns)
    assert len(buffer) == count


def test_a_new_buffer_is_empty_with_the_default_capacity() -> None:
    buffer = StreamBuffer()
    assert len(buffer) == 0 and buffer.arrivals == 0
    assert buffer.capacity == DEFAULT_CAPACITY == 65_536
    assert buffer.last_receive_ns is None
    assert all(column.size == 0 for column in buffer.columns()[:4])
    assert all(column.size == 0 for column in buffer.gap_rows())


def test_extend_appends_samples_in_order_across_many_calls() -> None:
    buffer = StreamBuffer(capacity=10_000)
    for start in range(1, 5001, 100):
        buffer.extend(*samples(start, 100))
    assert_holds(buffer, 1, 5000)
    assert buffer.overflowed_total == 0
    assert buffer.last_receive_ns == 5000 * MS


def test_a_batch_is_one_arrival_whose_samples_share_its_receive_time() -> None:
    buffer = StreamBuffer()
    buffer.extend([10 * MS, 20 * MS], [3, 2], [300, 200], [5, 6, 7, 8, 9])
    held = buffer.columns()
    assert held.receive_ns.tolist() == [10 * MS, 20 * MS] and held.samples.tolist() == [3, 2]
    assert held.payload_bytes.tolist() == [300, 200]
    assert (held.latency_from_base_ns + held.latency_base_ns).tolist() == [5, 6, 7, 8, 9]
    assert len(buffer) == 5 and buffer.arrivals == 2


def test_the_columns_have_the_documented_types_and_are_read_only() -> None:
    buffer = StreamBuffer()
    buffer.extend(*samples(1, 10))
    columns = buffer.columns()
    assert [column.dtype for column in columns[:4]] == [np.int64, np.int32, np.int64, np.float32]
    with pytest.raises(ValueError, match="read-only"):
        columns.receive_ns[0] = 0
    with pytest.raises(ValueError, match="read-only"):
        columns.latency_from_base_ns[0] = 0


def test_latencies_are_kept_exactly_to_the_nanosecond_near_the_base() -> None:
    buffer = StreamBuffer()
    latency_ns = np.array([-250_000_001, -250_000_000, -249_999_999, -241_000_123], np.int64)  # a clock 250 ms ahead
    buffer.extend(np.arange(4) * MS, np.ones(4), np.zeros(4), latency_ns)
    held = buffer.columns()
    assert (held.latency_from_base_ns.astype(np.int64) + held.latency_base_ns).tolist() == latency_ns.tolist()


def test_a_clock_step_of_an_hour_moves_the_base_and_keeps_the_new_latencies_exact() -> None:
    buffer = StreamBuffer()
    buffer.extend([0, MS], [1, 1], [0, 0], [300_000, 300_001])
    hour_ns = 3_600_000_000_000
    buffer.extend([2 * MS, 3 * MS], [1, 1], [0, 0], [hour_ns + 300_002, hour_ns + 300_003])
    held = buffer.columns()
    assert held.latency_base_ns == hour_ns + 300_003
    latency_ns = held.latency_from_base_ns.astype(np.float64) + held.latency_base_ns
    assert latency_ns[2:].tolist() == [hour_ns + 300_002, hour_ns + 300_003]
    assert latency_ns[:2] == pytest.approx([300_000, 300_001], abs=1e6)  # float32 steps of 262 µs an hour away


def test_trim_drops_samples_received_before_a_time() -> None:
    buffer = StreamBuffer()
    buffer.extend(*samples(1, 1000))
    assert buffer.trim(301 * MS) == 300
    assert_holds(buffer, 301, 700)
    assert buffer.trim(0) == 0
    assert buffer.trim(2000 * MS) == 700
    assert len(buffer) == 0
    assert buffer.last_receive_ns == 1000 * MS  # kept for staleness


def test_trim_drops_whole_batches() -> None:
    buffer = StreamBuffer()
    buffer.extend([10 * MS, 20 * MS, 30 * MS], [50, 50, 50], [5000, 5000, 5000], np.zeros(150))
    assert buffer.trim(20 * MS) == 50
    assert buffer.columns().receive_ns.tolist() == [20 * MS, 30 * MS] and len(buffer) == 100


def test_the_tick_s_sequence_findings_are_kept_as_rows_at_their_receive_times() -> None:
    buffer = StreamBuffer()
    buffer.extend(*samples(1, 100))  # no findings: no row
    found = GapCounts(lost=7, restarts=1, jumps=0, reordered=2, last=300, high=300, lost_first_step=3)
    buffer.extend(*samples(101, 100), gaps=found)
    rows = buffer.gap_rows()
    # 3 lost at the tick's first step: at the sample before it (the previous tick's last, 100 ms);
    # the rest at the tick's first sample (101 ms).
    assert rows.at_ns.tolist() == [100 * MS, 101 * MS]
    assert rows.lost.tolist() == [3, 4] and rows.restarts.tolist() == [0, 1]
    assert rows.jumps.tolist() == [0, 0] and rows.reordered.tolist() == [0, 2]
    buffer.trim(101 * MS)
    assert buffer.gap_rows().at_ns.tolist() == [101 * MS]


def test_a_sliding_window_keeps_exactly_the_recent_samples_and_bounded_storage() -> None:
    buffer = StreamBuffer(capacity=65_536)
    for tick in range(200):  # 1 kHz for 100 s, 500 samples a tick, 5 s window
        buffer.extend(*samples(1 + tick * 500, 500))
        buffer.trim((tick + 1) * 500 * MS - 5_000_000_000 + 1)
    assert_holds(buffer, 100_000 - 5000 + 1, 5000)
    assert buffer.overflowed_total == 0
    assert buffer.storage <= 2 * 5500  # within 2x of the live samples plus a tick, far below capacity


def test_a_batched_kilohertz_stream_costs_about_four_bytes_a_sample() -> None:
    buffer = StreamBuffer()
    for tick in range(200):  # 1 kHz in batches of 50, 10 batches a tick, 5 s window
        receive_ns = (tick * 500 + 50 * np.arange(1, 11)) * MS
        buffer.extend(receive_ns, np.full(10, 50), np.full(10, 50 * 316), np.full(500, 300_000))
        buffer.trim((tick + 1) * 500 * MS - 5_000_000_000 + 1)
    assert len(buffer) == 5000
    assert buffer.nbytes <= 2 * 4 * 5500  # 4 bytes a sample, within the 1.5x growth (32 a sample before)


def test_more_samples_than_capacity_keep_the_newest_and_count_the_rest() -> None:
    buffer = StreamBuffer(capacity=1000)
    buffer.extend(*samples(1, 600))
    buffer.extend(*samples(601, 600))
    assert_holds(buffer, 201, 1000)
    assert buffer.overflowed_total == 200
    buffer.extend(*samples(1201, 2500))
    assert_holds(buffer, 2701, 1000)
    assert buffer.overflowed_total == 200 + 1000 + 1500


def test_an_arrival_cut_by_the_capacity_keeps_its_newest_samples_and_their_share_of_bytes() -> None:
    buffer = StreamBuffer(capacity=100)
    buffer.extend([MS, 2 * MS], [60, 20], [6000, 2000], np.arange(80))
    buffer.extend([3 * MS], [40], [4000], np.arange(80, 120))  # 20 too many: the first batch loses 20
    held = buffer.columns()
    assert held.samples.tolist() == [40, 20, 40] and held.payload_bytes.tolist() == [4000, 2000, 4000]
    assert (held.latency_from_base_ns + held.latency_base_ns).tolist() == list(range(20, 120))
    buffer.extend([4 * MS], [150], [15000], np.arange(120, 270))  # one batch beyond capacity alone
    held = buffer.columns()
    assert held.samples.tolist() == [100] and held.payload_bytes.tolist() == [10000]
    assert buffer.overflowed_total == 20 + 100 + 50


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
    buffer.trim(49_991 * MS)
    assert buffer.storage < grown // 8
    assert_holds(buffer, 49_991, 10)


def test_extend_rejects_columns_of_different_lengths() -> None:
    buffer = StreamBuffer()
    receive_ns, count, size, latency_ns = samples(1, 10)
    with pytest.raises(ValueError, match=r"equal length, got receive_ns=\(10,\), samples=\(9,\)"):
        buffer.extend(receive_ns, count[:9], size, latency_ns)
    with pytest.raises(ValueError, match=r"latency_ns must hold one value per sample \(10\), got shape \(9,\)"):
        buffer.extend(receive_ns, count, size, latency_ns[:9])


def test_extend_rejects_an_arrival_without_samples() -> None:
    with pytest.raises(ValueError, match="every arrival must bring at least one sample"):
        StreamBuffer().extend([1, 2], [0, 3], [0, 0], [1, 2, 3])


def test_a_buffer_needs_a_positive_capacity() -> None:
    with pytest.raises(ValueError, match="capacity must be >= 1, got 0"):
        StreamBuffer(capacity=0)
