"""The bridge's accounting: DDS publication-sequence gaps (SourceSequence) and drop counters."""

from __future__ import annotations

import pytest

from telemetry.bridge.accounting import DropReason, SourceSequence, StreamCounters


def counted(*takes: list[int], single_publisher: bool = True) -> StreamCounters:
    """The counters after feeding each take's numbers (one wake-up each) to a fresh SourceSequence."""
    source, counters = SourceSequence(), StreamCounters()
    for numbers in takes:
        source.update(numbers, counters, single_publisher)
    return counters


def test_consecutive_numbers_count_as_published_and_none_lost() -> None:
    counters = counted([1, 2, 3], [4], [5, 6, 7, 8])
    assert (counters.source_published, counters.lost_dds) == (8, 0)


def test_the_first_number_seen_counts_as_one_published_whatever_it_is() -> None:
    counters = counted([500, 501])  # the bridge started after the source: nothing before is known
    assert (counters.source_published, counters.lost_dds) == (2, 0)


@pytest.mark.parametrize("lost", [1, 2, 7, 100])
def test_a_gap_of_k_counts_k_lost_and_k_more_published(lost: int) -> None:
    after = 3 + lost + 1
    across_takes = counted([1, 2, 3], [after, after + 1])
    within_a_take = counted([1, 2, 3, after, after + 1])
    for counters in (across_takes, within_a_take):
        assert counters.lost_dds == lost
        assert counters.source_published == 5 + lost


def test_a_step_back_is_a_new_writer_not_loss() -> None:
    counters = counted([10, 11, 12], [1, 2], [3])  # the driver restarted and numbers from 1 again
    assert (counters.source_published, counters.lost_dds) == (6, 0)
    within_a_take = counted([10, 11, 12, 1, 2, 3])
    assert (within_a_take.source_published, within_a_take.lost_dds) == (6, 0)


def test_a_repeated_number_is_counted_as_a_new_run_not_loss() -> None:
    counters = counted([5, 6], [6, 7])
    assert counters.lost_dds == 0


def test_with_several_publishers_nothing_is_counted() -> None:
    counters = counted([1, 5, 2, 9], [3, 10], single_publisher=False)  # interleaved writers say nothing
    assert (counters.source_published, counters.lost_dds) == (0, 0)


def test_after_several_publishers_the_count_restarts_afresh_without_a_gap() -> None:
    source, counters = SourceSequence(), StreamCounters()
    source.update([1, 2], counters, single_publisher=True)
    source.update([3, 40, 4], counters, single_publisher=False)
    source.update([50, 51], counters, single_publisher=True)  # one publisher again: 50 is a first sample
    assert (counters.source_published, counters.lost_dds) == (4, 0)


def test_none_numbers_are_ignored() -> None:
    source, counters = SourceSequence(), StreamCounters()
    source.update([None, None], counters, single_publisher=True)  # an rmw without numbers
    source.update([], counters, single_publisher=True)
    assert (counters.source_published, counters.lost_dds) == (0, 0)
    source.update([7, 8], counters, single_publisher=True)
    assert (counters.source_published, counters.lost_dds) == (2, 0)


def test_each_drop_reason_counts_in_its_own_field() -> None:
    counters = StreamCounters()
    for reason, count in zip(DropReason, (1, 2, 3, 4), strict=True):
        counters.drop(reason, count)
    assert (counters.downsampled, counters.not_routed, counters.malformed, counters.put_errors) == (1, 2, 3, 4)
    assert counters.dropped == 2 + 3 + 4  # downsampling is on purpose, never a drop
    counters.drop(DropReason.MALFORMED)
    assert counters.malformed == 4


def test_every_drop_reason_names_a_counter_field() -> None:
    fields = set(vars(StreamCounters()))
    assert {reason.value for reason in DropReason} <= fields
