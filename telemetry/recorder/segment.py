"""One MCAP segment being written: rosbag2's layout, raw CDR in, `.part` until closed.

What `ros2 bag info/play`, Foxglove and rosbags need (../shared/notes/recording_facts.md):
profile `ros2`; one schema per ROS type, `ros2msg` with the full concatenated definition; one
channel per topic, `cdr`, with rosbag2's `offered_qos_profiles` so that `ros2 bag play`
offers the QoS the stream had; statistics and indexes on; zstd chunks. Sample bytes are
written exactly as they arrived: nothing is decoded on the way.

Crash safety comes from `flush()`: it ends the open chunk and hands it to the OS, so after a
`kill -9` everything written before the last flush can be read back (recover.py).
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mcap.opcode import Opcode
from mcap.records import MessageIndex
from mcap.writer import CompressionType, IndexType, Writer

from telemetry.codec import TypeStore
from telemetry.errors import TelemetryError
from telemetry.recorder.layout import closed_path, part_path

__all__ = ["PROFILE", "ChannelSpec", "RawMessageWriter", "SegmentWriter", "qos_profiles_yaml"]

_log = logging.getLogger(__name__)

PROFILE = "ros2"
SCHEMA_ENCODING = "ros2msg"
MESSAGE_ENCODING = "cdr"
#: The name of the metadata record that says whose file this is (fleet, region, vehicle).
METADATA_NAME = "telemetry"
#: Chunks end at this size even between flushes: 1 MiB is the library's and rosbag2's default.
CHUNK_BYTES = 1024 * 1024
#: MCAP's `sequence` is a u32; the bridge's is a u64 from 1 (wraps after 49 days at 1 kHz).
_U32 = 2**32


@dataclass(frozen=True)
class ChannelSpec:
    """A topic as the recorder writes it: its type and the QoS its publisher offered."""

    topic: str
    ros_type: str
    reliable: bool = False
    depth: int = 5


def qos_profiles_yaml(reliable: bool, depth: int) -> str:
    """rosbag2's `offered_qos_profiles` (metadata version 9, Jazzy): one profile, as YAML.

    Durations of 0 s 0 ns mean "the default" (infinite) to rmw."""
    zero = "\n    sec: 0\n    nsec: 0"
    return (
        "- history: keep_last\n"
        f"  depth: {depth}\n"
        f"  reliability: {'reliable' if reliable else 'best_effort'}\n"
        "  durability: volatile\n"
        f"  deadline:{zero}\n"
        f"  lifespan:{zero}\n"
        "  liveliness: automatic\n"
        f"  liveliness_lease_duration:{zero}\n"
        "  avoid_ros_namespace_conventions: false\n"
    )


#: A Message record's opcode, length, channel id, sequence, log time and publish time.
_MESSAGE_HEAD = struct.Struct("<BQHIQQ")
_MESSAGE_FIELDS = _MESSAGE_HEAD.size - 9  # the record's length counts from the channel id


class RawMessageWriter(Writer):
    """The `mcap` library's writer with a faster `add_message` for raw bytes.

    The library builds a Message object and writes its fields one `struct.pack` at a time:
    ~6 µs of the ~8 µs a recorded sample cost (profiled here). This packs the record head in
    one call into the same chunk buffer and keeps the same statistics and message index, so
    the file is byte for byte what the library writes (test_recorder_units checks it). It
    reaches the library's private state, so `mcap` is pinned in requirements.txt."""

    def add_message(self, channel_id: int, log_time: int, data: bytes, publish_time: int, sequence: int = 0) -> None:
        statistics = self._Writer__statistics  # type: ignore[attr-defined]
        chunk = self._Writer__chunk_builder  # type: ignore[attr-defined]
        if statistics.message_count == 0 or log_time < statistics.message_start_time:
            statistics.message_start_time = log_time
        if log_time > statistics.message_end_time:
            statistics.message_end_time = log_time
        statistics.channel_message_counts[channel_id] += 1
        statistics.message_count += 1
        if chunk.num_messages == 0 or log_time < chunk.message_start_time:
            chunk.message_start_time = log_time
        if log_time > chunk.message_end_time:
            chunk.message_end_time = log_time
        index = chunk.message_indices.get(channel_id)
        if index is None:
            index = chunk.message_indices[channel_id] = MessageIndex(channel_id=channel_id, records=[])
        buffer = chunk.record_writer._buffer
        index.records.append((log_time, buffer.tell()))
        chunk.num_messages += 1
        buffer.write(_MESSAGE_HEAD.pack(Opcode.MESSAGE, _MESSAGE_FIELDS + len(data), channel_id, sequence, log_time,
                                        publish_time))
        buffer.write(data)
        if buffer.tell() > self._Writer__chunk_size:  # type: ignore[attr-defined]
            self._Writer__finalize_chunk()  # type: ignore[attr-defined]


class SegmentWriter:
    """One segment file: `write` samples, `flush` at least once a second, `close` to rename it.

    Not thread-safe: the recorder's writer thread owns it (history reads take its lock)."""

    def __init__(self, path: Path, store: TypeStore, metadata: dict[str, str], start_ns: int) -> None:
        self.path = path  # the closed name
        self.part = part_path(path)
        self.start_ns = start_ns
        self.samples = 0
        self.bytes = 0  # sample data written (the file is smaller: zstd)
        self._store = store
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, tuple[int, str]] = {}  # topic -> (channel id, ros type)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = self.part.open("wb")
        self._writer: Writer = RawMessageWriter(self._file, chunk_size=CHUNK_BYTES, compression=CompressionType.ZSTD,
                              index_types=IndexType.ALL, use_statistics=True)
        self._writer.start(profile=PROFILE, library="telemetry recorder")
        self._writer.add_metadata(METADATA_NAME, metadata)

    def has_channel(self, topic: str) -> bool:
        return topic in self._channels

    def add_channel(self, spec: ChannelSpec) -> None:
        """Register `spec.topic`; TelemetryError when its type's definition cannot be found."""
        schema_id = self._schemas.get(spec.ros_type)
        if schema_id is None:
            try:
                definition = self._store.full_definition(spec.ros_type)
            except TelemetryError as error:
                raise TelemetryError(f"{spec.topic}: type {spec.ros_type}: {error}") from None
            schema_id = self._writer.register_schema(spec.ros_type, SCHEMA_ENCODING, definition.encode())
            self._schemas[spec.ros_type] = schema_id
        metadata = {"offered_qos_profiles": qos_profiles_yaml(spec.reliable, spec.depth)}
        channel_id = self._writer.register_channel(spec.topic, MESSAGE_ENCODING, schema_id, metadata)
        self._channels[spec.topic] = (channel_id, spec.ros_type)

    def channel_type(self, topic: str) -> str | None:
        entry = self._channels.get(topic)
        return None if entry is None else entry[1]

    def write(self, topic: str, receive_ns: int, source_ns: int, sequence: int, data: bytes) -> None:
        """One sample on a registered topic: log_time = receive, publish_time = source time."""
        channel_id = self._channels[topic][0]
        self._writer.add_message(channel_id, receive_ns, data, source_ns, sequence % _U32)
        self.samples += 1
        self.bytes += len(data)

    def file_size(self) -> int:
        return self._file.tell()

    def flush(self, fsync: bool = False) -> None:
        """End the open chunk and hand it to the OS (and to the disk, with `fsync`)."""
        self._writer.flush()
        if fsync:
            os.fsync(self._file.fileno())

    def close(self) -> Path:
        """Write the summary (indexes, statistics), close and rename to the closed name."""
        try:
            self._writer.finish()
        finally:
            self._file.close()
        self.part.replace(closed_path(self.part))
        _log.info("closed %s: %d samples", self.path, self.samples)
        return self.path

    def abandon(self) -> None:
        """Close the file without a summary (the disk is full): it stays a `.part` to repair."""
        try:
            self._file.close()
        except OSError as error:
            _log.warning("%s: %s", self.part, error)
