"""BudgetSchedule: which streams wake the bridge, and when each open batch is due.

Times are plain ns on one made-up monotonic clock, so each rule of the module's docstring is
checked on an exact arrival pattern.
"""

from __future__ import annotations

import pytest

from telemetry.bridge.budget import BudgetSchedule

MS = 1_000_000
T0 = 5_000 * MS  # an arbitrary monotonic time


def test_a_new_stream_keeps_its_budget_and_is_waited_for() -> None:
    schedule = BudgetSchedule()
    at_once, budgeted = schedule.add(0), schedule.add(20 * MS)
    assert (at_once, budgeted) == (0, 1)
    assert (schedule.budget_ns(at_once), schedule.budget_ns(budgeted)) == (0, 20 * MS)
    assert schedule.waits_for(at_once) and schedule.waits_for(budgeted)
    assert schedule.next_deadline_ns() is None and schedule.due(T0 + 10**12) == []


def test_a_stream_without_a_budget_is_always_waited_for_and_never_due() -> None:
    schedule = BudgetSchedule()
    index = schedule.add(0)
    schedule.opened(index, T0)
    assert schedule.waits_for(index)
    assert schedule.due(T0 + 10**12) == [] and schedule.next_deadline_ns() is None


def test_opening_a_budgeted_stream_takes_it_out_of_the_wait_set() -> None:
    schedule = BudgetSchedule()
    index = schedule.add(20 * MS)
    schedule.opened(index, T0)
    assert not schedule.waits_for(index)  # later samples wait in the reader's queue, costing no wake-up


def test_a_batch_is_due_once_its_first_sample_waited_the_budget() -> None:
    schedule = BudgetSchedule()
    index = schedule.add(20 * MS)
    schedule.opened(index, T0)
    assert schedule.next_deadline_ns() == T0 + 20 * MS
    assert schedule.due(T0 + 20 * MS - 1) == []
    assert schedule.due(T0 + 20 * MS) == [index]
    assert schedule.due(T0 + 25 * MS) == [index]  # a late wake-up still finds it due


def test_opening_an_open_batch_again_does_not_move_its_deadline() -> None:
    schedule = BudgetSchedule()
    index = schedule.add(20 * MS)
    schedule.opened(index, T0)
    schedule.opened(index, T0 + 19 * MS)  # a later sample does not reset the clock
    assert schedule.next_deadline_ns() == T0 + 20 * MS


def test_after_a_drain_that_found_samples_the_next_batch_is_due_a_budget_after_the_drain() -> None:
    schedule = BudgetSchedule()
    index = schedule.add(20 * MS)
    schedule.opened(index, T0)
    drain_ns = T0 + 21 * MS  # woken a little late
    schedule.drained(index, found=True, now_ns=drain_ns)
    assert not schedule.waits_for(index)  # a steady stream costs one wake-up per budget
    assert schedule.next_deadline_ns() == drain_ns + 20 * MS
    assert schedule.due(drain_ns + 20 * MS - 1) == []
    assert schedule.due(drain_ns + 20 * MS) == [index]


def test_a_drain_that_found_nothing_makes_the_stream_idle_again() -> None:
    schedule = BudgetSchedule()
    index = schedule.add(20 * MS)
    schedule.opened(index, T0)
    schedule.drained(index, found=True, now_ns=T0 + 20 * MS)
    schedule.drained(index, found=False, now_ns=T0 + 40 * MS)
    assert schedule.waits_for(index)
    assert schedule.next_deadline_ns() is None and schedule.due(T0 + 10**12) == []
    schedule.opened(index, T0 + 100 * MS)  # the next sample opens a new batch from its own arrival
    assert schedule.next_deadline_ns() == T0 + 120 * MS


def test_the_next_deadline_is_the_earliest_open_one_and_due_lists_every_stream_past_it() -> None:
    schedule = BudgetSchedule()
    slow, fast, at_once, idle = schedule.add(50 * MS), schedule.add(5 * MS), schedule.add(0), schedule.add(10 * MS)
    schedule.opened(slow, T0)
    schedule.opened(fast, T0 + 2 * MS)
    schedule.opened(at_once, T0)
    assert schedule.next_deadline_ns() == T0 + 7 * MS
    assert schedule.due(T0 + 7 * MS) == [fast]
    assert schedule.due(T0 + 50 * MS) == [slow, fast]
    schedule.drained(fast, found=False, now_ns=T0 + 7 * MS)
    assert schedule.next_deadline_ns() == T0 + 50 * MS
    assert schedule.waits_for(idle) and schedule.waits_for(at_once) and schedule.waits_for(fast)
    assert not schedule.waits_for(slow)


def test_a_negative_budget_is_refused() -> None:
    schedule = BudgetSchedule()
    with pytest.raises(ValueError, match=r"^budget must be >= 0 ns, got -1$"):
        schedule.add(-1)
    assert schedule.add(0) == 0  # the refused one took no index
