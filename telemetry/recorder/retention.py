"""Which closed segments go when the recorder's folder is over its limits: pure, no I/O.

Oldest first, closed segments only (an open `.part` is still being written; a crashed one is
repaired, not deleted), until the folder is under `max_total_bytes` and nothing is older than
`max_age_s`. Age is measured from a segment's last write, so a long segment is kept whole
until its newest sample is old enough.
"""

from __future__ import annotations

from collections.abc import Sequence

from telemetry.recorder.layout import SegmentFile

__all__ = ["segments_to_delete"]


def segments_to_delete(
    segments: Sequence[SegmentFile], max_total_bytes: int | None, max_age_s: float | None, now_s: float
) -> list[SegmentFile]:
    """`segments` (oldest first, as list_segments gives them) that the limits say must go."""
    total = sum(s.size for s in segments)
    doomed: list[SegmentFile] = []
    for segment in segments:
        if not segment.closed:
            continue
        too_old = max_age_s is not None and now_s - segment.modified_s > max_age_s
        too_big = max_total_bytes is not None and total > max_total_bytes
        if not (too_old or too_big):
            continue
        doomed.append(segment)
        total -= segment.size
    return doomed
