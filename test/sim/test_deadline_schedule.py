"""DeadlineSchedule keeps every stream on its absolute grid, whatever the wake-ups do.

The schedule is driven here by a simulated clock, the way sensor_sim's loop drives it: take
the earliest deadline, wait for it (the clock jumps there), wake up late by some random
amount, send, mark sent. Simulated time makes 60 s of 1 kHz sending run in well under a second.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from telemetry.sim.schedule import DeadlineSchedule, LatenessWindow, run_on_deadlines, summarize_lateness

MS = 1_000_000
START_NS = 1_700_000_000_000_000_000
CATCH_UP_NS = 100 * MS

Lateness = Callable[[], int]


class SimulatedLoop:
    """sensor_sim's publishing loop on a simulated clock; records (stream, deadline, sent_at)."""

    def __init__(self, schedule: DeadlineSchedule, now_ns: int = START_NS) -> None:
        self.schedule = schedule
        self.now_ns = now_ns
        self.sent: list[tuple[int, int, int]] = []

    def run_until(self, end_ns: int, lateness: Lateness = lambda: 0) -> None:
        while True:
            index, deadline_ns = self.schedule.next_due()
            if deadline_ns >= end_ns:
                return
            if deadline_ns > self.now_ns:
                self.now_ns = deadline_ns + lateness()  # slept until the deadline, woke up late
            self.send(index, deadline_ns)

    def send(self, index: int, deadline_ns: int) -> None:
        self.sent.append((index, deadline_ns, self.now_ns))
        self.schedule.mark_sent(index, self.now_ns)

    def deadlines(self, index: int) -> list[int]:
        return [deadline for stream, deadline, _ in self.sent if stream == index]

    def send_times(self, index: int) -> list[int]:
        return [sent_at for stream, _, sent_at in self.sent if stream == index]


def test_deadlines_are_start_plus_k_periods_without_drift_over_60_s_of_late_wakeups() -> None:
    rng = random.Random(3)
    period_ns = 1 * MS
    loop = SimulatedLoop(DeadlineSchedule([period_ns], START_NS, CATCH_UP_NS))
    loop.run_until(START_NS + 60_000 * MS, lateness=lambda: rng.randrange(period_ns))

    deadlines = np.array(loop.deadlines(0))
    assert deadlines.size == 60_000
    np.testing.assert_array_equal(deadlines, START_NS + np.arange(60_000) * period_ns)
    sent = np.array(loop.send_times(0))
    assert np.all(sent >= deadlines) and np.all(sent - deadlines < period_ns)
    assert loop.schedule.deadline_ns(0) == START_NS + 60_000 * period_ns  # the next one, exactly
    assert loop.schedule.skipped == [0]


def test_late_wakeups_longer_than_a_period_are_caught_up_back_to_back_without_drift() -> None:
    rng = random.Random(4)
    period_ns = 1 * MS
    loop = SimulatedLoop(DeadlineSchedule([period_ns], START_NS, CATCH_UP_NS))
    loop.run_until(START_NS + 10_000 * MS, lateness=lambda: rng.randrange(5 * period_ns))

    np.testing.assert_array_equal(loop.deadlines(0), START_NS + np.arange(10_000) * period_ns)
    assert loop.schedule.skipped == [0]


def test_several_streams_interleave_in_deadline_order() -> None:
    periods_ns = [1 * MS, 10 * MS, 100 * MS, 1000 * MS]  # imu, odom, gnss, battery
    rng = random.Random(5)
    loop = SimulatedLoop(DeadlineSchedule(periods_ns, START_NS, CATCH_UP_NS))
    loop.run_until(START_NS + 2_000 * MS, lateness=lambda: rng.randrange(MS // 2))

    order = [deadline for _, deadline, _ in loop.sent]
    assert order == sorted(order)
    for index, period_ns in enumerate(periods_ns):
        expected = START_NS + np.arange(2_000 * MS // period_ns) * period_ns
        np.testing.assert_array_equal(loop.deadlines(index), expected)
    # Equal deadlines go out in stream order, so the first four sends are one of each.
    assert [stream for stream, _, _ in loop.sent[:4]] == [0, 1, 2, 3]


def test_a_short_stall_is_caught_up_at_once_and_nothing_is_skipped() -> None:
    period_ns = 1 * MS
    loop = SimulatedLoop(DeadlineSchedule([period_ns], START_NS, CATCH_UP_NS))
    loop.run_until(START_NS + 100 * MS)
    loop.now_ns += 20 * MS  # the thread stalled (GC, a busy core) for 20 ms
    stalled_at = loop.now_ns
    loop.run_until(START_NS + 1_000 * MS)

    np.testing.assert_array_equal(loop.deadlines(0), START_NS + np.arange(1_000) * period_ns)
    burst = [sent for sent in loop.send_times(0) if sent == stalled_at]
    # Last sent: the deadline at 99 ms. Those at 100..119 ms went out back to back at 119 ms.
    assert len(burst) == 20
    assert loop.schedule.skipped == [0]


def test_a_long_stall_skips_the_missed_deadlines_counts_them_and_stays_on_the_grid() -> None:
    period_ns = 1 * MS
    loop = SimulatedLoop(DeadlineSchedule([period_ns], START_NS, CATCH_UP_NS))
    loop.run_until(START_NS + 100 * MS)
    index, stalled_deadline = loop.schedule.next_due()
    loop.now_ns = stalled_deadline + 500 * MS  # far beyond the 100 ms catch-up limit
    loop.send(index, stalled_deadline)

    next_deadline = loop.schedule.deadline_ns(0)
    assert next_deadline > loop.now_ns  # no burst: nothing is due right after the stall
    assert (next_deadline - START_NS) % period_ns == 0  # still on the original grid
    assert next_deadline == loop.now_ns + period_ns  # the first grid point after the wake-up
    skipped = (next_deadline - stalled_deadline) // period_ns - 1
    assert loop.schedule.skipped == [skipped] and skipped == 500

    loop.run_until(loop.now_ns + 50 * MS)
    after = np.diff(loop.send_times(0)[-50:])
    assert np.all(after == period_ns)


def test_skips_are_counted_per_stream() -> None:
    loop = SimulatedLoop(DeadlineSchedule([1 * MS, 1000 * MS], START_NS, CATCH_UP_NS))
    loop.run_until(START_NS + 10 * MS)
    index, deadline = loop.schedule.next_due()
    assert index == 0
    loop.now_ns = deadline + 300 * MS
    loop.send(index, deadline)
    assert loop.schedule.skipped[0] > 0 and loop.schedule.skipped[1] == 0


@pytest.mark.parametrize("new_period_ns", [5 * MS, MS // 2])
def test_set_period_changes_the_rate_from_the_pending_deadline_without_a_burst(new_period_ns: int) -> None:
    period_ns = 1 * MS
    loop = SimulatedLoop(DeadlineSchedule([period_ns], START_NS, CATCH_UP_NS))
    loop.run_until(START_NS + 100 * MS)
    pending = loop.schedule.deadline_ns(0)
    loop.now_ns = pending - MS // 3  # the change arrives between two samples
    changed_at = loop.now_ns
    loop.schedule.set_period(0, new_period_ns, changed_at)
    loop.run_until(changed_at + 200 * MS)

    after = [d for d in loop.deadlines(0) if d >= changed_at]
    assert after[0] == pending
    assert np.all(np.diff(after) == new_period_ns)
    assert len(after) == pytest.approx(200 * MS / new_period_ns, abs=1)
    assert loop.schedule.skipped == [0]


def test_set_period_while_behind_starts_the_new_grid_now_instead_of_catching_up() -> None:
    loop = SimulatedLoop(DeadlineSchedule([1 * MS], START_NS, CATCH_UP_NS))
    loop.run_until(START_NS + 100 * MS)
    loop.now_ns += 50 * MS  # 50 deadlines overdue ...
    changed_at = loop.now_ns
    loop.schedule.set_period(0, 10 * MS, changed_at)  # ... when the rate drops to 100 Hz
    loop.run_until(changed_at + 100 * MS)

    after = [sent for sent in loop.send_times(0) if sent >= changed_at]
    assert after[0] == changed_at
    assert np.all(np.diff(after) == 10 * MS)  # no burst of the 50 overdue 1 kHz samples


def test_periods_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"periods must be > 0 ns, got \[1000, 0\]"):
        DeadlineSchedule([1000, 0], START_NS)
    schedule = DeadlineSchedule([1000], START_NS)
    with pytest.raises(ValueError, match="period must be > 0 ns, got -5"):
        schedule.set_period(0, -5, START_NS)


def test_lateness_window_reports_percentiles_in_microseconds() -> None:
    window = LatenessWindow(capacity=4096)
    values_us = list(range(1, 1001))
    random.Random(6).shuffle(values_us)
    for value in values_us:
        window.add(value * 1_000)
    summary = window.take()
    assert summary.samples == 1000
    assert summary.p50_us == pytest.approx(500.5)
    assert summary.p99_us == pytest.approx(990.01)
    assert summary.max_us == pytest.approx(1000.0)


def test_lateness_window_starts_over_after_take() -> None:
    window = LatenessWindow(capacity=16)
    for value in (5_000, 7_000):
        window.add(value)
    assert window.take().samples == 2
    empty = window.take()
    assert empty.samples == 0
    assert np.isnan(empty.p50_us) and np.isnan(empty.p99_us) and np.isnan(empty.max_us)
    window.add(3_000)
    again = window.take()
    assert (again.samples, again.p50_us, again.max_us) == (1, 3.0, 3.0)


def test_lateness_window_keeps_the_first_values_when_full() -> None:
    window = LatenessWindow(capacity=10)
    for value in range(20):
        window.add(value * 1_000)
    summary = window.take()
    assert summary.samples == 10
    assert summary.max_us == 9.0


def test_summarize_lateness_of_nothing_is_nan() -> None:
    summary = summarize_lateness(np.array([], dtype=np.int64))
    assert summary.samples == 0 and np.isnan(summary.p99_us)


def test_run_on_deadlines_numbers_the_calls_and_stops_when_send_says_so() -> None:
    stop = threading.Event()
    calls: list[int] = []

    def send(n: int) -> None:
        calls.append(n)
        if n == 5:
            stop.set()

    assert run_on_deadlines(send, 0.0, stop) == 5  # unpaced
    assert calls == [1, 2, 3, 4, 5]


def test_run_on_deadlines_never_runs_ahead_of_its_grid() -> None:
    stop = threading.Event()
    times: list[int] = []

    def send(n: int) -> None:
        times.append(time.monotonic_ns())
        if n == 20:
            stop.set()

    assert run_on_deadlines(send, 200.0, stop) == 20
    # The 20th call is due 19 periods (95 ms) after the first; a late host only adds to that.
    assert times[-1] - times[0] >= 19 * 5 * MS - MS
