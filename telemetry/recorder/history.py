"""The history queryable: `telemetry/history/<region>/<vehicle>/<topic>?_time=[..]` answered
from the recorder's segments, closed and open, one reply per sample with its attachment.

Zenoh has no time-series storage a Python process can host (the storages run inside zenohd,
and keep the latest value per key), so the recorder serves its own files. Replies go out in
receive order per vehicle; a query that would pass `HistoryLimits` gets the samples up to the
limit and then an error reply saying where to continue. Without `_time` a client's `get` is
consolidated to one reply per key by Zenoh itself: `telemetry history` always sends `_time`.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import zenoh

from telemetry.bridge.plan import starts_with_header
from telemetry.codec import TypeStore
from telemetry.codec.attachment import pack_fields
from telemetry.errors import TelemetryError
from telemetry.fleet.vehicle_key import VehicleKey
from telemetry.keys import KeySpace
from telemetry.recorder.archive import RecordedSample, read_samples
from telemetry.recorder.layout import SegmentFile, closed_path, list_segments, segment_start_ns, vehicle_folders
from telemetry.recorder.time_range import TimeRange, TimeRangeError, format_instant, parse_time_range
from telemetry.recorder.writer import Recording

__all__ = ["History", "HistoryLimits", "HistorySample"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HistoryLimits:
    """The most one query is answered with; past it, an error reply says where to go on."""

    max_samples: int = 2_000_000
    max_bytes: int = 512 * 1024 * 1024


@dataclass(frozen=True)
class HistorySample:
    """A recorded sample with the key it is served on."""

    key: str
    sample: RecordedSample


class History:
    """Finds the samples a history key expression and time range ask for, and replies."""

    def __init__(self, keys: KeySpace, recording: Recording, store: TypeStore, limits: HistoryLimits) -> None:
        self._keys = keys
        self._recording = recording
        self._store = store
        self._limits = limits
        self._stamped: dict[str, bool] = {}
        self._encodings: dict[str, zenoh.Encoding] = {}

    def answer(self, query: zenoh.Query) -> None:
        """Reply to one query (on the history thread, never in a Zenoh callback)."""
        asked = str(query.key_expr)
        parameters = str(query.parameters)
        try:
            window = _window(query.parameters.get("_time"))
        except TimeRangeError as error:
            query.reply_err(f"history: {error}")
            return
        count = size = 0
        last_ns: int | None = None
        try:
            for found in self.samples(asked, window):
                sample = found.sample
                full = count >= self._limits.max_samples or size + len(sample.data) > self._limits.max_bytes
                # Stop only between receive times: a batch's samples share one, and the error
                # tells the client to go on after the last one sent.
                if full and sample.receive_ns != last_ns:
                    query.reply_err(self._limit_message(asked, parameters, count, size, last_ns))
                    return
                query.reply(found.key, sample.data, encoding=self._encoding(sample.ros_type),
                            attachment=self._attachment(sample))
                count += 1
                size += len(sample.data)
                last_ns = sample.receive_ns
        except (TelemetryError, OSError) as error:
            _log.warning("history %s?%s: %s", asked, parameters, error)
            query.reply_err(f"history: {error}")
            return
        _log.info("history %s?%s: %d samples, %d bytes", asked, parameters, count, size)

    def samples(self, key_expr: str, window: TimeRange) -> Iterator[HistorySample]:
        """Every recorded sample whose history key intersects `key_expr`, within `window`, in
        receive order across vehicles (so that one instant is a valid place to go on from)."""
        asked = zenoh.KeyExpr(key_expr)
        lo, hi = window.bounds_ns()
        per_vehicle = [
            self._vehicle_samples(asked, VehicleKey(region, vehicle), folder, lo, hi)
            for region, vehicle, folder in vehicle_folders(self._recording.folder)
            if asked.intersects(zenoh.KeyExpr(f"{self._keys.root}/history/{region}/{vehicle}/**"))
        ]
        yield from heapq.merge(*per_vehicle, key=lambda found: found.sample.receive_ns)

    def _vehicle_samples(self, asked: zenoh.KeyExpr, source: VehicleKey, folder: Path, lo: int | None,
                         hi: int | None) -> Iterator[HistorySample]:
        matching: dict[str, str | None] = {}
        for path in self._segments(source, folder, lo, hi):
            for sample in read_samples(path, None, lo, hi):
                key = matching.get(sample.topic, "")
                if key == "":
                    key = self._keys.history(source.region, source.vehicle, sample.topic)
                    key = key if asked.intersects(zenoh.KeyExpr(key)) else None
                    matching[sample.topic] = key
                if key is not None:
                    yield HistorySample(key, sample)

    def _segments(self, source: VehicleKey, folder: Path, lo: int | None, hi: int | None) -> list[Path]:
        """The vehicle's segments that may hold samples in [lo, hi], oldest first; the open one
        flushed first so that its latest second is in the file."""
        with self._recording.flushed() as parts:
            open_part = parts.get(source)
        segments: list[SegmentFile] = list_segments(folder)
        chosen = []
        for segment in segments:
            start = segment_start_ns(segment.path)
            end_ns = int(segment.modified_s * 1e9) + 1_000_000_000  # mtime is the last flush
            if (hi is not None and start is not None and start > hi) or (lo is not None and end_ns < lo):
                continue
            if not segment.closed and segment.path != open_part:
                continue  # a crashed one waiting for repair: `telemetry recover` reads it
            chosen.append(segment.path)
        return [path if path.exists() else closed_path(path) for path in chosen]

    def _encoding(self, ros_type: str) -> zenoh.Encoding:
        encoding = self._encodings.get(ros_type)
        if encoding is None:
            encoding = self._encodings[ros_type] = zenoh.Encoding.APPLICATION_CDR.with_schema(ros_type)
        return encoding

    def _attachment(self, sample: RecordedSample) -> bytes:
        """The sample's attachment again: its sequence (as MCAP keeps it, modulo 2**32) and source
        time as recorded, and the recorder's receive time in place of the bridge's send time."""
        stamped = self._stamped.get(sample.ros_type)
        if stamped is None:
            try:
                stamped = starts_with_header(self._store, sample.ros_type)
            except TelemetryError:
                stamped = False
            self._stamped[sample.ros_type] = stamped
        return pack_fields(max(sample.sequence, 1), sample.source_ns, sample.receive_ns, stamped)

    def _limit_message(self, asked: str, parameters: str, count: int, size: int, last_ns: int | None) -> str:
        where = (f"; the last samples sent were received at {format_instant(last_ns)}: go on with "
                 f"_time=]{format_instant(last_ns)}..<end>]" if last_ns is not None else "")
        return (f"history: {asked}?{parameters}: past this recorder's limit of {self._limits.max_samples} samples or "
                f"{self._limits.max_bytes} bytes per query ({count} samples, {size} bytes sent){where}, "
                "or narrow the range")


def _window(value: str | None) -> TimeRange:
    """The query's `_time`, or the whole recording when it has none."""
    if value is None:
        return TimeRange(None, None, True, True)
    return parse_time_range(value, time.time_ns())
