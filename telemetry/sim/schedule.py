"""Absolute-deadline scheduling of several periodic streams on one thread.

Each stream's k-th sample is due at `start + k * period`, computed from k rather than by
adding periods to the last send time, so the rate does not drift however late one wake-up
is. A short lateness is caught up at once (the next samples go out back to back); after a
stall longer than `max_catch_up_ns` the missed deadlines are skipped and counted, as a real
driver would drop samples it could not take.

`run_on_deadlines` is the one loop for a single stream (the bench's publishers): the same
schedule, with the catch-up policy as its parameter (the bench never skips, since a skipped
sample there would read as loss).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "NEVER_SKIP",
    "DeadlineSchedule",
    "LatenessSummary",
    "LatenessWindow",
    "run_on_deadlines",
    "summarize_lateness",
]

#: A catch-up limit no stall reaches: every missed deadline is caught up, none skipped.
NEVER_SKIP = 2**62


class DeadlineSchedule:
    """Which stream is due next, and when, for streams with fixed periods."""

    def __init__(self, periods_ns: Sequence[int], start_ns: int, max_catch_up_ns: int = 100_000_000) -> None:
        if any(period <= 0 for period in periods_ns):
            raise ValueError(f"periods must be > 0 ns, got {list(periods_ns)}")
        self._periods_ns = list(periods_ns)
        self._origins_ns = [start_ns] * len(periods_ns)
        self._counts = [0] * len(periods_ns)
        self._max_catch_up_ns = max_catch_up_ns
        self.skipped = [0] * len(periods_ns)

    def deadline_ns(self, index: int) -> int:
        return self._origins_ns[index] + self._counts[index] * self._periods_ns[index]

    def next_due(self) -> tuple[int, int]:
        """(stream index, deadline in ns) of the earliest deadline."""
        best = 0
        best_deadline = self.deadline_ns(0)
        for index in range(1, len(self._periods_ns)):
            deadline = self.deadline_ns(index)
            if deadline < best_deadline:
                best, best_deadline = index, deadline
        return best, best_deadline

    def mark_sent(self, index: int, now_ns: int) -> None:
        """The sample due at `deadline_ns(index)` went out at `now_ns`: move to the next one."""
        self._counts[index] += 1
        behind_ns = now_ns - self.deadline_ns(index)
        if behind_ns > self._max_catch_up_ns:
            missed = behind_ns // self._periods_ns[index] + 1
            self._counts[index] += missed
            self.skipped[index] += missed

    def set_period(self, index: int, period_ns: int, now_ns: int) -> None:
        """Change one stream's period from now on, without a burst or a gap."""
        if period_ns <= 0:
            raise ValueError(f"period must be > 0 ns, got {period_ns}")
        self._origins_ns[index] = max(now_ns, self.deadline_ns(index))
        self._counts[index] = 0
        self._periods_ns[index] = period_ns


@dataclass(frozen=True)
class LatenessSummary:
    """How late samples went out, relative to their deadline, over one reporting window."""

    samples: int
    p50_us: float
    p99_us: float
    max_us: float


def summarize_lateness(lateness_ns: np.ndarray) -> LatenessSummary:
    """Percentiles of an array of lateness values in ns (NaN when the array is empty)."""
    if lateness_ns.size == 0:
        nan = float("nan")
        return LatenessSummary(0, nan, nan, nan)
    p50, p99 = np.percentile(lateness_ns, [50.0, 99.0])
    return LatenessSummary(int(lateness_ns.size), float(p50) / 1e3, float(p99) / 1e3,
                           float(lateness_ns.max()) / 1e3)


class LatenessWindow:
    """A preallocated buffer of lateness values: appending costs no allocation at 1 kHz."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._values = np.zeros(capacity, dtype=np.int64)
        self._size = 0

    def add(self, lateness_ns: int) -> None:
        if self._size < self._values.size:
            self._values[self._size] = lateness_ns
            self._size += 1

    def take(self) -> LatenessSummary:
        """Summarize what was added since the last call and start a new window."""
        summary = summarize_lateness(self._values[: self._size])
        self._size = 0
        return summary


def run_on_deadlines(send: Callable[[int], object], rate_hz: float, stop: threading.Event,
                     max_catch_up_ns: int = NEVER_SKIP) -> int:
    """Call `send(n)` with n = 1, 2, 3, ... on `rate_hz`'s absolute deadlines until `stop`
    (`rate_hz` 0: back to back, unpaced); how many calls went out. `send` may set `stop`."""
    sent = 0
    if rate_hz <= 0:
        while not stop.is_set():
            sent += 1
            send(sent)
        return sent
    schedule = DeadlineSchedule([round(1e9 / rate_hz)], time.monotonic_ns(), max_catch_up_ns)
    while not stop.is_set():
        _, deadline_ns = schedule.next_due()
        delay_ns = deadline_ns - time.monotonic_ns()
        if delay_ns > 0:
            time.sleep(delay_ns / 1e9)
        sent += 1
        send(sent)
        schedule.mark_sent(0, time.monotonic_ns())
    return sent
