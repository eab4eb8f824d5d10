"""Fleet statistics maths: pure functions over numpy arrays, free of I/O and middleware.

The aggregator feeds these with each stream's samples on its tick; tests feed them with
hand-made arrays. Imports only numpy, the standard library and telemetry's core modules.
"""

from __future__ import annotations

from telemetry.fleet.buffer import DEFAULT_CAPACITY, BufferColumns, StreamBuffer
from telemetry.fleet.clock import ClockEstimate, ClockSample, ClockTracker, estimate_offset
from telemetry.fleet.sequence import GapCounts, SequenceTotals, SequenceTracker, classify_gaps, jump_limit_for
from telemetry.fleet.stats import StreamWindowStats, stale_after_ns, window_stats
from telemetry.fleet.status import StatusChange, VehiclePresence, VehicleStatus, presence_status
from telemetry.fleet.vehicle_key import VehicleKey

__all__ = [
    "DEFAULT_CAPACITY",
    "BufferColumns",
    "ClockEstimate",
    "ClockSample",
    "ClockTracker",
    "GapCounts",
    "SequenceTotals",
    "SequenceTracker",
    "StatusChange",
    "StreamBuffer",
    "StreamWindowStats",
    "VehicleKey",
    "VehiclePresence",
    "VehicleStatus",
    "classify_gaps",
    "estimate_offset",
    "jump_limit_for",
    "presence_status",
    "stale_after_ns",
    "window_stats",
]
