"""Where a stream's samples were lost, hop by hop, over the aggregator's window.

The network hop (bridge -> aggregator) is measured by the aggregator itself, from gaps in
the bridge's sequence numbers (telemetry.fleet.stats). The two hops before it are counted
on the vehicle by its bridge, which reports totals since it started about once a second
(msg/BridgeHealth): what the source published (from DDS publication sequence numbers, so
"the sensor published 930 Hz" is a finding of its own), samples lost between the source
and the bridge, and the bridge's own drops. Over a window these are differences between
reports of the same bridge run: the newest, and the last one at or before the window's
start (or the run's first one, for a run younger than the window).

Pure: plain records in, a frozen record out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["HopCounts", "HopStats", "hop_stats", "keep_for_window"]

_NAN = math.nan


@dataclass(frozen=True, slots=True)
class HopCounts:
    """One stream's counters in one bridge health report (totals since `started_ns`)."""

    at_ns: int  # when the aggregator received the report (its clock)
    started_ns: int  # the bridge run's start (vehicle clock): a new value is a new run
    publishers: int
    source_published: int
    received: int
    lost_dds: int
    downsampled: int
    dropped: int  # not routed + malformed + put errors: the bridge's drops that are loss
    forwarded: int
    messages: int


@dataclass(frozen=True, slots=True)
class HopStats:
    """One stream's hops over the window; NaN and 0 while no report says otherwise."""

    source_rate_hz: float  # NaN unless the topic has exactly one publisher
    lost_dds: int
    dropped_bridge: int
    downsampled: int
    samples_per_message: float
    lost_dds_total: int  # since the bridge started
    dropped_bridge_total: int


NO_HOP_STATS = HopStats(_NAN, 0, 0, 0, _NAN, 0, 0)


def keep_for_window(reports: Sequence[HopCounts], now_ns: int, window_ns: int) -> list[HopCounts]:
    """The reports `hop_stats` may still need: the newest run's, from the last one at or
    before the window's start onwards."""
    if not reports:
        return []
    run = [r for r in reports if r.started_ns == reports[-1].started_ns]
    start_ns = now_ns - window_ns
    before = [i for i, r in enumerate(run) if r.at_ns <= start_ns]
    return run[before[-1]:] if before else run


def hop_stats(reports: Sequence[HopCounts], now_ns: int, window_ns: int) -> HopStats:
    """The hops of one stream over [now - window, now] from its reports, oldest first."""
    kept = keep_for_window(reports, now_ns, window_ns)
    if not kept:
        return NO_HOP_STATS
    newest = kept[-1]
    base = kept[0] if len(kept) > 1 else None
    span_s = (newest.at_ns - base.at_ns) / 1e9 if base is not None else 0.0
    published = newest.source_published - (base.source_published if base else 0)
    source_known = newest.publishers == 1 and base is not None and base.source_published > 0 and span_s > 0
    forwarded = newest.forwarded - (base.forwarded if base else 0)
    messages = newest.messages - (base.messages if base else 0)
    return HopStats(
        source_rate_hz=published / span_s if source_known else _NAN,
        lost_dds=newest.lost_dds - (base.lost_dds if base else 0),
        dropped_bridge=newest.dropped - (base.dropped if base else 0),
        downsampled=newest.downsampled - (base.downsampled if base else 0),
        samples_per_message=forwarded / messages if messages > 0 else _NAN,
        lost_dds_total=newest.lost_dds,
        dropped_bridge_total=newest.dropped,
    )
