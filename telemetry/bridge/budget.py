"""Latency budgets: when the bridge sends each stream's waiting samples, and which streams
it needs to be woken for (DESIGN.md, "Cost per sample, latency budget, overload").

Every process on the path pays tens of microseconds per wake-up and per message, so the
bridge spends a stream's budget (`batch_ms`) on waking less and sending fewer messages:

- budget 0: the stream is always in the bridge's wait set; each wake-up drains what is
  ready and sends it at once (one sample alone, several as one batch);
- budget B > 0: an idle stream is in the wait set. The wake-up that finds its first
  sample opens a batch due B after that sample arrived, and takes the stream out of the
  wait set: later samples wait in the DDS reader's queue, costing no wake-up, until the
  deadline drains them all and sends one message. If that drain found samples, the
  stream stays out of the wait set and the next batch is due B after the drain (a
  steady stream costs one wake-up per B); if it found none, the stream is idle again.

No sample waits longer than B (plus scheduling): each one arrived after the previous drain
or after the batch opened. Pure: times are plain ns on one monotonic clock.
"""

from __future__ import annotations

__all__ = ["BudgetSchedule"]


class BudgetSchedule:
    """Each stream's budget and, while a batch is open, its deadline."""

    def __init__(self) -> None:
        self._budgets_ns: list[int] = []
        self._deadlines_ns: list[int | None] = []

    def add(self, budget_ns: int) -> int:
        """A new stream with this budget (0: send at once); returns its index."""
        if budget_ns < 0:
            raise ValueError(f"budget must be >= 0 ns, got {budget_ns}")
        self._budgets_ns.append(budget_ns)
        self._deadlines_ns.append(None)
        return len(self._budgets_ns) - 1

    def budget_ns(self, index: int) -> int:
        return self._budgets_ns[index]

    def waits_for(self, index: int) -> bool:
        """True when a sample of this stream should wake the bridge (no batch is open)."""
        return self._deadlines_ns[index] is None

    def opened(self, index: int, first_arrival_ns: int) -> None:
        """A wake-up found this stream's first samples, the oldest arrived at `first_arrival_ns`."""
        if self._budgets_ns[index] and self._deadlines_ns[index] is None:
            self._deadlines_ns[index] = first_arrival_ns + self._budgets_ns[index]

    def due(self, now_ns: int) -> list[int]:
        """The streams whose open batch is due at `now_ns`."""
        deadlines_ns = enumerate(self._deadlines_ns)
        return [index for index, deadline in deadlines_ns if deadline is not None and deadline <= now_ns]

    def drained(self, index: int, found: bool, now_ns: int) -> None:
        """A due batch was sent after draining the stream at `now_ns`; `found`: the drain took samples."""
        budget_ns = self._budgets_ns[index]
        self._deadlines_ns[index] = now_ns + budget_ns if found and budget_ns else None

    def next_deadline_ns(self) -> int | None:
        """The earliest open deadline, or None when no batch is open."""
        return min((d for d in self._deadlines_ns if d is not None), default=None)
