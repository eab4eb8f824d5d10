"""A vehicle's clock offset, estimated NTP-style from query round trips.

One round trip: the aggregator notes `t_send_ns`, asks the vehicle for its time
(`t_vehicle_ns`), and notes `t_receive_ns` when the answer arrives, both on its own clock.
If the two legs took equally long, the vehicle read its clock at (t_send + t_receive) / 2
aggregator time, so

    offset     = t_vehicle - (t_send + t_receive) / 2     (vehicle clock - aggregator clock)
    round_trip = t_receive - t_send

Whatever the split between the legs, the true offset lies within round_trip / 2 of that
estimate, so of several round trips the one with the smallest round trip is kept and half
of it is the uncertainty. A negative round trip (the aggregator's clock stepped back) is
ignored. Subtract the offset from a vehicle time to read it on the aggregator's clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DEFAULT_REFRESH_NS", "ClockEstimate", "ClockSample", "ClockTracker", "estimate_offset"]

#: How often a vehicle's offset is measured again.
DEFAULT_REFRESH_NS = 10_000_000_000


@dataclass(frozen=True, slots=True)
class ClockSample:
    """One round trip: send and receive on the aggregator's clock, the reply on the vehicle's."""

    t_send_ns: int
    t_vehicle_ns: int
    t_receive_ns: int

    @property
    def round_trip_ns(self) -> int:
        return self.t_receive_ns - self.t_send_ns

    @property
    def offset_ns(self) -> int:
        """Vehicle clock - aggregator clock, rounded down to the nanosecond."""
        return (2 * self.t_vehicle_ns - self.t_send_ns - self.t_receive_ns) // 2


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    """The offset from the best round trip of one measurement."""

    offset_ns: int  # vehicle clock - aggregator clock
    uncertainty_ns: int  # half the best round trip (rounded up): |true - offset_ns| <= this
    round_trip_ns: int  # the best round trip
    samples: int  # round trips considered (negative ones excluded)

    @property
    def offset_ms(self) -> float:
        return self.offset_ns / 1e6

    @property
    def uncertainty_ms(self) -> float:
        return self.uncertainty_ns / 1e6


def estimate_offset(samples: Iterable[ClockSample]) -> ClockEstimate | None:
    """The estimate from the sample with the smallest round trip; None without a valid one."""
    valid = [sample for sample in samples if sample.round_trip_ns >= 0]
    if not valid:
        return None
    best = min(valid, key=lambda sample: sample.round_trip_ns)
    round_trip_ns = best.round_trip_ns
    return ClockEstimate(best.offset_ns, (round_trip_ns + 1) // 2, round_trip_ns, len(valid))


class ClockTracker:
    """One vehicle's current offset estimate, and when to measure it again."""

    def __init__(self, refresh_ns: int = DEFAULT_REFRESH_NS) -> None:
        if refresh_ns <= 0:
            raise ValueError(f"refresh_ns must be > 0, got {refresh_ns}")
        self.refresh_ns = refresh_ns
        self.estimate: ClockEstimate | None = None
        self.estimated_at_ns: int | None = None  # when `estimate` was measured
        self._last_attempt_ns: int | None = None

    def due(self, now_ns: int) -> bool:
        """True when never measured, or `refresh_ns` has passed since the last attempt."""
        return self._last_attempt_ns is None or now_ns - self._last_attempt_ns >= self.refresh_ns

    def record(self, samples: Iterable[ClockSample], now_ns: int) -> ClockEstimate | None:
        """Take one measurement's round trips. Without a valid one the previous estimate
        stays (an old offset beats none; clocks drift by microseconds per second)."""
        self._last_attempt_ns = now_ns
        estimate = estimate_offset(samples)
        if estimate is not None:
            self.estimate, self.estimated_at_ns = estimate, now_ns
        return estimate

    def forget(self) -> None:
        """Drop the estimate and measure again at once (the vehicle may have restarted)."""
        self.estimate = self.estimated_at_ns = self._last_attempt_ns = None

    @property
    def offset_ms(self) -> float:
        """The offset in ms, NaN until estimated."""
        return math.nan if self.estimate is None else self.estimate.offset_ms

    @property
    def uncertainty_ms(self) -> float:
        """Half the best round trip in ms, NaN until estimated."""
        return math.nan if self.estimate is None else self.estimate.uncertainty_ms
