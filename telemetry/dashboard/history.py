"""A few minutes of one stream's rate and p99 latency, for the detail view's sparklines.

Stats arrive every 0.5 s; keeping one point per `step_s` bounds memory at 100 vehicles x 10
streams (2 x 90 floats each by default) however long the dashboard runs.
"""

from __future__ import annotations

from collections import deque

__all__ = ["StreamHistory"]


class StreamHistory:
    """Points at least `step_s` apart, the newest `span_s` worth."""

    def __init__(self, span_s: float = 180.0, step_s: float = 2.0) -> None:
        self._step_ns = int(step_s * 1e9)
        length = max(1, int(span_s / step_s))
        self._rate: deque[float] = deque(maxlen=length)
        self._p99: deque[float] = deque(maxlen=length)
        self._last_ns: int | None = None

    def add(self, at_ns: int, rate_hz: float, p99_ms: float) -> None:
        """Keep the point if `step_s` passed since the last one kept."""
        if self._last_ns is not None and at_ns - self._last_ns < self._step_ns:
            return
        self._last_ns = at_ns
        self._rate.append(rate_hz)
        self._p99.append(p99_ms)

    @property
    def rate_hz(self) -> tuple[float, ...]:
        return tuple(self._rate)

    @property
    def p99_ms(self) -> tuple[float, ...]:
        return tuple(self._p99)
