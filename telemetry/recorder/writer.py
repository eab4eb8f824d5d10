"""The recorder's files: one open segment per vehicle (and one for the fleet's stats), rotated
by duration and size, flushed at least once a second, and stopped cleanly when the disk fills.

No Zenoh here: the service hands over samples already taken apart (vehicle, topic, type,
times, raw bytes), so this can be driven directly by tests and the benchmark. One lock guards
the open segments: the service's writer thread holds it while writing a drained batch, and
history takes it to flush and read an open segment.
"""

from __future__ import annotations

import errno
import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from telemetry.codec import TypeStore
from telemetry.errors import TelemetryError
from telemetry.fleet.vehicle_key import VehicleKey
from telemetry.recorder.archive import count_samples
from telemetry.recorder.layout import fleet_segment_path, list_segments, vehicle_segment_path
from telemetry.recorder.recover import recover_segment
from telemetry.recorder.retention import segments_to_delete
from telemetry.recorder.segment import ChannelSpec, SegmentWriter

__all__ = ["FLEET_SOURCE", "Recording", "RecordingCounters", "SegmentLimits"]

_log = logging.getLogger(__name__)

#: The "vehicle" whose segments hold the aggregator's stats.
FLEET_SOURCE = VehicleKey("", "")
#: Free space below which the recorder stops writing (a chunk, its index and a summary fit).
MIN_FREE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class SegmentLimits:
    """When segments end and old ones go; `flush_s` bounds what a crash can lose."""

    duration_s: float = 300.0
    max_bytes: int = 512 * 1024 * 1024
    flush_s: float = 0.5
    retention_bytes: int | None = None
    retention_age_s: float | None = None
    fsync: bool = False


@dataclass
class RecordingCounters:
    """Since start; `bad_input` per vehicle (`region/vehicle`), like the aggregator's."""

    samples_written: int = 0
    bytes_written: int = 0
    samples_dropped: int = 0
    samples_thinned: int = 0
    bad_input: dict[str, int] = field(default_factory=dict)
    segments_closed: int = 0

    def count_bad(self, source: VehicleKey) -> None:
        name = f"{source.region}/{source.vehicle}"
        self.bad_input[name] = self.bad_input.get(name, 0) + 1


class Recording:
    """The open segments under one folder, and the rules for closing, rotating and deleting them."""

    def __init__(
        self,
        folder: Path,
        store: TypeStore,
        limits: SegmentLimits,
        identity: dict[str, str],
        channel_spec: Callable[[VehicleKey, str, str], ChannelSpec],
    ) -> None:
        self.folder = folder
        self.limits = limits
        self.counters = RecordingCounters()
        self.lock = threading.Lock()
        self.disk_full = False
        self.last_error = ""
        self._store = store
        self._identity = identity  # fleet name, recorder name: into every file's metadata
        self._channel_spec = channel_spec
        self._open: dict[VehicleKey, SegmentWriter] = {}
        self._last_flush_ns = 0
        self._needs_repair: list[Path] = []

    # -- writing (the caller holds `lock`) --------------------------------------------------

    def write(self, source: VehicleKey, topic: str, ros_type: str, receive_ns: int, source_ns: int,
              sequence: int, data: bytes) -> None:
        """One sample of `source`'s `topic` (or of the fleet's stats, for FLEET_SOURCE)."""
        if self.disk_full:
            self.counters.samples_dropped += 1
            return
        try:
            segment = self._segment(source, receive_ns)
            known = segment.channel_type(topic)
            if known is None:
                segment.add_channel(self._channel_spec(source, topic, ros_type))
            elif known != ros_type:
                self.counters.count_bad(source)
                return
            segment.write(topic, receive_ns, source_ns, sequence, data)
        except TelemetryError as error:  # no definition for the type: bad input, not a stop
            self.counters.count_bad(source)
            self._note(str(error))
            return
        except OSError as error:
            self._write_failed(error)
            self.counters.samples_dropped += 1
            return
        self.counters.samples_written += 1
        self.counters.bytes_written += len(data)

    def tick(self, now_ns: int) -> None:
        """Flush chunks when due, rotate segments that are long or big enough, and resume
        after a full disk once there is room again. Called by the writer thread."""
        if self.disk_full:
            self._maybe_resume()
            return
        try:
            for source, segment in list(self._open.items()):
                if (now_ns - segment.start_ns >= self.limits.duration_s * 1e9
                        or segment.file_size() >= self.limits.max_bytes):
                    self._close(source)
            if now_ns - self._last_flush_ns >= self.limits.flush_s * 1e9:
                for segment in self._open.values():
                    segment.flush(self.limits.fsync)
                self._last_flush_ns = now_ns
        except OSError as error:
            self._write_failed(error)

    def close_all(self) -> None:
        for source in list(self._open):
            try:
                self._close(source)
            except OSError as error:
                self._write_failed(error)

    # -- what history and status read -------------------------------------------------------

    @contextmanager
    def flushed(self) -> Iterator[dict[VehicleKey, Path]]:
        """Under the lock, every open segment flushed to the OS: their `.part` paths by source."""
        with self.lock:
            parts: dict[VehicleKey, Path] = {}
            for source, segment in self._open.items():
                try:
                    segment.flush()
                except OSError as error:
                    self._write_failed(error)
                    break
                parts[source] = segment.part
            yield parts

    def open_count(self) -> int:
        return len(self._open)

    def free_bytes(self) -> int:
        try:
            return shutil.disk_usage(self.folder).free
        except OSError:
            return 0

    def apply_retention(self, now_s: float) -> list[Path]:
        """Delete the oldest closed segments beyond the limits; the paths deleted."""
        limits = self.limits
        if limits.retention_bytes is None and limits.retention_age_s is None:
            return []
        deleted = []
        for segment in segments_to_delete(list_segments(self.folder), limits.retention_bytes,
                                          limits.retention_age_s, now_s):
            try:
                segment.path.unlink()
            except FileNotFoundError:
                continue
            except OSError as error:
                self._note(f"retention: cannot delete {segment.path}: {error.strerror or error}")
                continue
            deleted.append(segment.path)
            _log.info("retention: deleted %s (%d bytes)", segment.path, segment.size)
        return deleted

    # -- inside -----------------------------------------------------------------------------

    def _segment(self, source: VehicleKey, receive_ns: int) -> SegmentWriter:
        segment = self._open.get(source)
        if segment is None:
            if source == FLEET_SOURCE:
                path = fleet_segment_path(self.folder, receive_ns)
                identity = {**self._identity, "content": "fleet stats"}
            else:
                path = vehicle_segment_path(self.folder, source.region, source.vehicle, receive_ns)
                identity = {**self._identity, "region": source.region, "vehicle": source.vehicle}
            segment = SegmentWriter(path, self._store, identity, receive_ns)
            self._open[source] = segment
        return segment

    def _close(self, source: VehicleKey) -> None:
        segment = self._open.pop(source)
        try:
            segment.close()
        except OSError:
            segment.abandon()
            self._needs_repair.append(segment.part)
            # What was still in memory did not reach the disk: count it as dropped, not written.
            lost = max(0, segment.samples - count_samples(segment.part))
            self.counters.samples_written -= lost
            self.counters.samples_dropped += lost
            raise
        self.counters.segments_closed += 1

    def _write_failed(self, error: OSError) -> None:
        """A write failed: on a full disk, end every segment and drop until there is room."""
        full = error.errno in (errno.ENOSPC, errno.EDQUOT)
        self._note(f"{'disk full' if full else 'write failed'} in {self.folder}: {error.strerror or error}"
                   + ("; dropping samples until there is room" if full else ""))
        if not full:
            return
        self.disk_full = True
        for source in list(self._open):
            try:
                self._close(source)
            except OSError:
                pass  # abandoned: repaired when there is room again

    def _maybe_resume(self) -> None:
        if self.free_bytes() < MIN_FREE_BYTES:
            return
        for part in [p for p in self._needs_repair if p.exists()]:  # one deleted to make room needs no repair
            try:
                saved = recover_segment(part)
                _log.info("repaired %s after the disk filled: %d samples", saved.path, saved.samples)
            except TelemetryError as error:
                self._note(str(error))
                return
        self._needs_repair.clear()
        self.disk_full = False
        _log.warning("space again in %s: recording resumed", self.folder)
        self.last_error = ""

    def _note(self, message: str) -> None:
        if message != self.last_error:
            _log.warning("%s", message)
        self.last_error = message
