"""Sequence bookkeeping: loss, bridge restarts, bad jumps and reordering, exactly counted."""

from __future__ import annotations

import numpy as np
import pytest

from telemetry.fleet.sequence import (
    DEFAULT_JUMP_LIMIT,
    MAX_JUMP_LIMIT,
    MIN_JUMP_LIMIT,
    REORDER_WINDOW,
    RESTART_MAX_SEQUENCE,
    GapCounts,
    SequenceTracker,
    classify_gaps,
    jump_limit_for,
)

LIMIT = 10_000
BILLION = 1_000_000_000


def reference_counts(
    previous_last: int | None, previous_high: int | None, sequence: list[int], jump_limit: int
) -> GapCounts:
    """The module docstring's rules, one sample at a time: the oracle for the vectorised code."""
    lost = restarts = jumps = reordered = 0
    last = previous_last
    floor = high = previous_high if previous_high is not None else previous_last
    filled: set[int] = set()
    for value in sequence:
        starts_run = last is None
        if last is not None:
            distance = abs(value - last)
            if value < last and value <= RESTART_MAX_SEQUENCE and distance > REORDER_WINDOW:
                restarts += 1
                starts_run = True
            elif distance > jump_limit:
                jumps += 1
                starts_run = True
        if starts_run:
            if high is not None and floor is not None:
                lost += high - floor - len(filled)
            floor = high = value
            filled = set()
        else:
            assert high is not None and floor is not None
            if value > high:
                high = value
            else:
                reordered += 1
            if value > floor:
                filled.add(value)
        last = value
    if high is not None and floor is not None:
        lost += high - floor - len(filled)
    return GapCounts(lost, restarts, jumps, reordered, last, high)


def test_a_contiguous_series_has_no_loss() -> None:
    assert classify_gaps(None, np.arange(1, 1001), LIMIT) == GapCounts(0, 0, 0, 0, 1000, 1000)


def test_dropping_every_tenth_sample_counts_each_drop_as_lost() -> None:
    sequence = np.arange(1, 10_001)
    kept = sequence[sequence % 10 != 0]
    counts = classify_gaps(None, kept, LIMIT)
    assert counts.lost == 999  # 10, 20, ..., 9990; 10 000 is past the last sample kept
    assert (counts.restarts, counts.jumps, counts.reordered) == (0, 0, 0)


def test_a_bridge_restart_back_to_one_is_a_restart_and_not_loss() -> None:
    sequence = np.concatenate((np.arange(1, 2501), np.arange(1, 2501)))
    counts = classify_gaps(None, sequence, LIMIT)
    assert (counts.lost, counts.restarts, counts.jumps) == (0, 1, 0)
    assert counts.last == counts.high == 2500


def test_a_restart_whose_first_samples_were_lost_is_still_a_restart() -> None:
    sequence = np.concatenate((np.arange(1, 5001), np.arange(4, 100)))
    counts = classify_gaps(None, sequence, LIMIT)
    assert (counts.lost, counts.restarts) == (0, 1)


def test_a_billion_sample_jump_is_counted_as_a_jump_and_not_loss() -> None:
    sequence = np.concatenate((np.arange(1, 101), BILLION + np.arange(100)))
    counts = classify_gaps(None, sequence, LIMIT)
    assert (counts.lost, counts.restarts, counts.jumps, counts.reordered) == (0, 0, 1, 0)
    assert counts.last == BILLION + 99


def test_a_single_bogus_value_costs_two_jumps_and_counting_resumes() -> None:
    sequence = [5000, 5001, BILLION, 5002, 5003]
    assert classify_gaps(None, sequence, LIMIT) == GapCounts(0, 0, 2, 0, 5003, 5003)


def test_a_late_sample_is_reordered_and_the_gap_it_fills_is_not_lost() -> None:
    assert classify_gaps(None, [1, 2, 4, 3, 5], LIMIT) == GapCounts(0, 0, 0, 1, 5, 5)


def test_a_duplicate_is_reordered_and_does_not_hide_a_real_loss() -> None:
    assert classify_gaps(None, [1, 2, 2, 4], LIMIT) == GapCounts(1, 0, 0, 1, 4, 4)


def test_samples_before_the_first_value_of_a_window_are_neither_lost_nor_filled() -> None:
    assert classify_gaps(None, [5, 3, 4, 6], LIMIT) == GapCounts(0, 0, 0, 2, 6, 6)


def test_an_outage_shorter_than_the_jump_limit_is_loss() -> None:
    counts = classify_gaps(None, [100, 100 + LIMIT], LIMIT)
    assert (counts.lost, counts.jumps) == (LIMIT - 1, 0)


def test_a_step_just_past_the_jump_limit_is_a_jump() -> None:
    counts = classify_gaps(None, [100, 101 + LIMIT], LIMIT)
    assert (counts.lost, counts.jumps) == (0, 1)


def test_sequences_near_the_top_of_u64_are_handled_exactly() -> None:
    top = 2**64 - 1
    assert classify_gaps(None, [top - 2, top], LIMIT) == GapCounts(1, 0, 0, 0, top, top)
    assert classify_gaps(None, [top - 2, top, 1, 2], LIMIT) == GapCounts(1, 1, 0, 0, 2, 2)
    assert classify_gaps(None, [top, 5000, 5001], LIMIT) == GapCounts(0, 0, 1, 0, 5001, 5001)


def test_the_previous_call_state_links_the_first_new_sample() -> None:
    assert classify_gaps(10, [12, 13], LIMIT) == GapCounts(1, 0, 0, 0, 13, 13)
    assert classify_gaps(5000, [1, 2], LIMIT) == GapCounts(0, 1, 0, 0, 2, 2)
    assert classify_gaps(10, [], LIMIT) == GapCounts(0, 0, 0, 0, 10, 10)
    assert classify_gaps(None, [], LIMIT) == GapCounts(0, 0, 0, 0, None, None)


def test_loss_is_measured_from_the_high_water_mark_after_a_late_sample() -> None:
    # Previous call ended 100, 98 (98 late): 101 next is no loss; 99 is late again.
    assert classify_gaps(98, [101, 99, 103], LIMIT, previous_high=100) == GapCounts(1, 0, 0, 1, 103, 103)


def test_a_restart_within_the_reorder_window_counts_as_reordering_not_loss() -> None:
    counts = classify_gaps(None, [*range(1, REORDER_WINDOW + 1), *range(1, 5)], LIMIT)
    assert (counts.lost, counts.restarts, counts.reordered) == (0, 0, 4)


@pytest.mark.parametrize("seed", range(40))
def test_the_vectorised_counts_equal_the_one_sample_at_a_time_rules(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sequence: list[int] = []
    value = int(rng.integers(1, 3000))
    for _ in range(400):
        event = rng.random()
        if event < 0.70:
            value += 1
        elif event < 0.80:
            value += int(rng.integers(2, 50))  # loss
        elif event < 0.88:
            value -= int(rng.integers(0, 40))  # late or duplicate
        elif event < 0.92:
            value = int(rng.integers(1, 40))  # restart (or reordering, if small)
        elif event < 0.96:
            value = int(rng.integers(BILLION, 2 * BILLION))  # jump away
        else:
            value += int(rng.integers(LIMIT // 2, 2 * LIMIT))  # long outage or jump
        value = max(value, 1)
        sequence.append(value)
    split = int(rng.integers(1, len(sequence)))
    assert classify_gaps(None, sequence, LIMIT) == reference_counts(None, None, sequence, LIMIT)
    first = classify_gaps(None, sequence[:split], LIMIT)
    second = classify_gaps(first.last, sequence[split:], LIMIT, first.high)
    assert second == reference_counts(first.last, first.high, sequence[split:], LIMIT)
    assert first.lost_first_step == 0 and 0 <= second.lost_first_step <= second.lost


def test_a_consecutive_call_after_a_gap_counts_the_gap_at_its_first_step() -> None:
    counts = classify_gaps(100, np.arange(105, 200, dtype=np.uint64), LIMIT)
    assert counts == GapCounts(4, 0, 0, 0, 199, 199)
    assert counts.lost_first_step == 4
    assert classify_gaps(None, np.arange(1, 50), LIMIT).lost_first_step == 0


def test_a_consecutive_call_after_a_late_sample_is_measured_against_the_high_water_mark() -> None:
    # The carried last sample (98) came late: 101 follows the high-water mark 100, nothing lost.
    sequence = list(range(101, 110))
    counts = classify_gaps(98, sequence, LIMIT, previous_high=100)
    assert counts == reference_counts(98, 100, sequence, LIMIT) == GapCounts(0, 0, 0, 0, 109, 109)
    assert counts.lost_first_step == 0


def test_the_loss_at_the_first_step_leaves_out_what_a_late_sample_of_the_call_fills() -> None:
    # High-water mark 100, then 103: 101 and 102 missing at the first step; 101 arrives late.
    counts = classify_gaps(98, [103, 101, 104], LIMIT, previous_high=100)
    assert (counts.lost, counts.reordered, counts.lost_first_step) == (1, 1, 1)
    assert classify_gaps(10, [13, 15], LIMIT).lost_first_step == 2  # and 14 is lost later in the call


def test_a_restart_or_a_jump_at_the_first_step_is_never_first_step_loss() -> None:
    assert classify_gaps(5000, [1, 2], LIMIT).lost_first_step == 0
    assert classify_gaps(10, [10 + 2 * LIMIT, 11 + 2 * LIMIT], LIMIT).lost_first_step == 0


def test_the_first_step_breakdown_is_left_out_of_equality() -> None:
    assert GapCounts(1, 0, 0, 0, 13, 13, lost_first_step=1) == GapCounts(1, 0, 0, 0, 13, 13)


def test_classify_gaps_rejects_a_jump_limit_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"jump_limit must be in \[1, \d+\], got 0"):
        classify_gaps(None, [1], 0)
    with pytest.raises(ValueError, match="jump_limit must be in"):
        classify_gaps(None, [1], MAX_JUMP_LIMIT + 1)


def test_classify_gaps_rejects_a_two_dimensional_sequence() -> None:
    with pytest.raises(ValueError, match=r"sequence must be one-dimensional, got shape \(2, 2\)"):
        classify_gaps(None, [[1, 2], [3, 4]], LIMIT)


def test_the_jump_limit_is_a_minute_of_samples_with_a_floor() -> None:
    assert jump_limit_for(1000.0) == 60_000
    assert jump_limit_for(1.0) == MIN_JUMP_LIMIT
    assert jump_limit_for(None) == DEFAULT_JUMP_LIMIT
    assert jump_limit_for(float("nan")) == DEFAULT_JUMP_LIMIT
    assert jump_limit_for(0.0) == DEFAULT_JUMP_LIMIT


def test_the_tracker_carries_state_and_totals_across_ticks() -> None:
    tracker = SequenceTracker(jump_limit=LIMIT)
    tracker.update(np.arange(1, 101))
    tracker.update(np.arange(103, 5001))  # 101, 102 lost across the tick boundary
    tracker.update(np.array([1, 2, 3]))  # bridge restart
    tracker.update(np.array([5, 4, 6]))  # 4 late: fills the gap, reordered
    tracker.update(np.array([BILLION, BILLION + 1]))  # a vehicle's billion-sample jump
    tracker.update(np.array([], dtype=np.uint64))
    assert tracker.received_total == 100 + 4898 + 3 + 3 + 2
    assert (tracker.lost_total, tracker.restarts_total, tracker.jumps_total) == (2, 1, 1)
    assert tracker.reordered_total == 1
    assert (tracker.last, tracker.high) == (BILLION + 1, BILLION + 1)
