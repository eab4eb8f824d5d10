"""Downsampling by time: forward at most `max_rate_hz`, spread evenly.

Forwarding "every n-th sample" would follow the input rate's jitter and fail when the
input rate changes; a time gate keeps the output rate whatever comes in.
"""

from __future__ import annotations

__all__ = ["RateLimiter"]


class RateLimiter:
    """Admits a sample when at least one output period has passed on an even grid."""

    def __init__(self, max_rate_hz: float) -> None:
        if max_rate_hz <= 0:
            raise ValueError(f"max_rate_hz must be > 0, got {max_rate_hz}")
        self._period_ns = round(1e9 / max_rate_hz)
        self._next_ns: int | None = None

    def admit(self, now_ns: int) -> bool:
        """True when the sample arriving at `now_ns` should be forwarded."""
        if self._next_ns is None:
            self._next_ns = now_ns + self._period_ns
            return True
        if now_ns < self._next_ns - self._period_ns // 20:  # 5 % slack for arrival jitter
            return False
        # Stay on the grid (no drift); after a gap, restart it from now (no burst).
        self._next_ns += self._period_ns
        if self._next_ns <= now_ns:
            self._next_ns = now_ns + self._period_ns
        return True
