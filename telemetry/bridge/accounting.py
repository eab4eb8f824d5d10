"""Where each of a stream's samples went, as the bridge counts it: the source -> bridge hop
and the bridge's own drops (DESIGN.md, "Stats, defined once").

Every sample the source published ends in exactly one bucket: lost on DDS (a gap in the
publication sequence numbers), dropped by the bridge for a reason (`DropReason`), or
forwarded. The network hop after the bridge is the aggregator's to count, from the bridge's
own sequence numbers. Pure: no rclpy, no Zenoh; the ROS side passes in the publication
sequence numbers rclpy's raw `take_message` returns in its message info.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DropReason", "SourceSequence", "StreamCounters"]


class DropReason(StrEnum):
    """Why the bridge did not forward a sample it received (each a StreamCounters field)."""

    DOWNSAMPLED = "downsampled"  # on purpose (max_rate_hz): never loss
    NOT_ROUTED = "not_routed"  # the Zenoh session was not open yet
    MALFORMED = "malformed"  # not a valid sample of its type
    PUT_ERROR = "put_errors"  # Zenoh refused the put


@dataclass
class StreamCounters:
    """What happened to one stream's samples since the bridge started."""

    received: int = 0
    forwarded: int = 0
    messages: int = 0  # Zenoh puts the forwarded samples went out in
    downsampled: int = 0
    not_routed: int = 0
    malformed: int = 0
    put_errors: int = 0
    lost_dds: int = 0
    source_published: int = 0  # 0 while unknown (no sequence numbers, or several publishers)
    publishers: int = 0  # DDS publishers of the topic, at the last look
    largest_take: int = 0  # most samples one wake-up found since the last health report

    def drop(self, reason: DropReason, count: int = 1) -> None:
        setattr(self, reason.value, getattr(self, reason.value) + count)

    @property
    def dropped(self) -> int:
        """Dropped by the bridge for any reason other than downsampling (which is on purpose)."""
        return self.not_routed + self.malformed + self.put_errors


class SourceSequence:
    """Gaps in one topic's DDS publication sequence numbers: samples lost before the bridge.

    A DDS writer numbers its samples 1, 2, 3, ...; rclpy hands each taken sample's number
    over in its message info. With one publisher on the topic, a step forward by d > 1
    means d - 1 samples were lost between the source and the bridge (a reader queue that
    overflowed while the bridge was late, or the transport), and the count of numbers seen
    is what the source published. A step back means a new writer (the driver restarted):
    a new run, never loss. With several publishers their numbers interleave and say
    nothing; they are not counted then (`update(..., single_publisher=False)`).
    """

    def __init__(self) -> None:
        self._last: int | None = None

    def update(self, numbers: Sequence[int | None], counters: StreamCounters, single_publisher: bool) -> None:
        """Account for the numbers of the samples taken in one wake-up, in order."""
        if not numbers or numbers[0] is None:  # an rmw that does not number its samples
            return
        numbered: Sequence[int] = numbers  # type: ignore[assignment]  # all or none are numbered
        if not single_publisher:
            self._last = None  # start afresh once the topic has one publisher again
            return
        last = self._last
        first_number, last_number = numbered[0], numbered[-1]
        if last is not None and first_number == last + 1 and last_number - first_number + 1 == len(numbered):
            counters.source_published += len(numbered)  # the common case: consecutive, nothing lost
            self._last = last_number
            return
        published = lost = 0
        for number in numbered:
            if last is None or number <= last:  # the first sample, or a new writer's run
                published += 1
            else:
                published += number - last
                lost += number - last - 1
            last = number
        counters.source_published += published
        counters.lost_dds += lost
        self._last = last
