"""Vehicle presence: online, stale or offline, with the time of the last change.

The rule, from the liveliness token and the vehicle's streams:

- token absent: OFFLINE (whatever data still arrives: presence is the token's word);
- token present, within `grace_ns` of its appearance: ONLINE (a bridge that just came up
  has not sent data yet);
- token present, at least one stream not stale: ONLINE;
- token present, every stream stale, or no stream at all once the grace has passed: STALE.

`grace_ns` defaults to the stale time of a stream of unknown rate (3 s); an aggregator that
knows the vehicle's streams can pass the longest of their stale times. Transitions are
stamped with the `now_ns` of the update that observes them (the aggregator's tick, or the
token event).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from telemetry.fleet.stats import UNKNOWN_RATE_STALE_NS

__all__ = ["StatusChange", "VehiclePresence", "VehicleStatus", "presence_status"]


class VehicleStatus(IntEnum):
    """Values equal msg/VehicleStats.msg's STATUS_* constants."""

    ONLINE = 0
    STALE = 1
    OFFLINE = 2


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A transition, for alerts and for `status_since`."""

    old: VehicleStatus
    new: VehicleStatus
    at_ns: int


def presence_status(*, token_present: bool, streams_stale: Iterable[bool], in_grace: bool) -> VehicleStatus:
    """The status from the rule in the module docstring (`in_grace`: the token is young)."""
    if not token_present:
        return VehicleStatus.OFFLINE
    if in_grace:
        return VehicleStatus.ONLINE
    fresh = any(not stale for stale in streams_stale)
    return VehicleStatus.ONLINE if fresh else VehicleStatus.STALE


class VehiclePresence:
    """One vehicle's status, when it last changed, and when its token appeared."""

    def __init__(self, now_ns: int, *, grace_ns: int = UNKNOWN_RATE_STALE_NS) -> None:
        self.grace_ns = grace_ns
        self.status = VehicleStatus.OFFLINE
        self.since_ns = now_ns
        self.token_since_ns: int | None = None

    def update(self, now_ns: int, *, token_present: bool, streams_stale: Iterable[bool] = ()) -> StatusChange | None:
        """Apply the rule at `now_ns`; the change, if the status changed."""
        if not token_present:
            self.token_since_ns = None
        elif self.token_since_ns is None:
            self.token_since_ns = now_ns
        in_grace = self.token_since_ns is not None and now_ns - self.token_since_ns <= self.grace_ns
        status = presence_status(token_present=token_present, streams_stale=streams_stale, in_grace=in_grace)
        if status == self.status:
            return None
        change = StatusChange(self.status, status, now_ns)
        self.status, self.since_ns = status, now_ns
        return change
