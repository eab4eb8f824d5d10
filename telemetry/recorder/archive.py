"""Reading samples back out of segments: closed ones by their index, open or crashed ones
by scanning what has reached the disk.

A closed segment has a summary (chunk indexes by time), so a time range touches only the
chunks it needs. A `.part` has none: it is read record by record up to the first one that is
cut off, which is exactly what a crash or the writer's last flush left readable.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from mcap.data_stream import ReadDataStream
from mcap.exceptions import McapError
from mcap.opcode import Opcode
from mcap.reader import make_reader
from mcap.records import Channel, Chunk, McapRecord, Message, Metadata, Schema
from mcap.stream_reader import StreamReader, get_chunk_data_stream

from telemetry.recorder.layout import PART_SUFFIX
from telemetry.recorder.segment import METADATA_NAME

__all__ = ["RecordedSample", "count_samples", "file_metadata", "read_samples", "scan_records"]

_log = logging.getLogger(__name__)

#: A record's opcode and length, and a Message record's fixed head (MCAP's layout).
_RECORD_PREFIX = struct.Struct("<BQ")
_MESSAGE_HEAD = struct.Struct("<HIQQ")


@dataclass(frozen=True)
class RecordedSample:
    """One recorded sample, as written: times in ns since the epoch, data the raw CDR."""

    topic: str
    ros_type: str
    receive_ns: int  # MCAP log_time
    source_ns: int  # MCAP publish_time
    sequence: int  # MCAP sequence (the bridge's, modulo 2**32)
    data: bytes


def scan_records(path: Path) -> Iterator[McapRecord]:
    """Every whole record of `path` in file order, stopping quietly at the first cut-off one."""
    with path.open("rb") as stream:
        records = StreamReader(stream, record_size_limit=256 * 2**20).records
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except (McapError, EOFError, ValueError, OSError, MemoryError) as error:
                _log.debug("%s: readable up to here (%s)", path, type(error).__name__)
                return
            except Exception as error:  # noqa: BLE001 - a cut-off zstd frame raises its own kinds
                _log.debug("%s: readable up to here (%r)", path, error)
                return
            yield record


def read_samples(
    path: Path, topics: Collection[str] | None = None, start_ns: int | None = None, end_ns: int | None = None
) -> Iterator[RecordedSample]:
    """Samples of `topics` (None: all) received in [start_ns, end_ns], in file order, which is
    receive order: the recorder writes samples as they arrive."""
    if path.name.endswith(PART_SUFFIX):
        yield from _scan_samples(path, topics, start_ns, end_ns)
        return
    yield from _chunk_samples(path, topics, start_ns, end_ns)


def _chunk_samples(
    path: Path, topics: Collection[str] | None, start_ns: int | None, end_ns: int | None
) -> Iterator[RecordedSample]:
    """A closed segment's samples, found through its chunk index and taken apart one at a time.

    The mcap library's reader parses a whole chunk into objects at once: 11-13 ms per 1 MiB
    chunk (measured here), which stalled a 1 kHz replay every 3 s and slowed history. Here a
    chunk costs its decompression (0.4-0.7 ms) and each sample one `struct` unpack. Samples
    come in file order, chunk by chunk, which is receive order: the recorder writes them as
    they arrive. A file without chunk indexes is scanned record by record."""
    with path.open("rb") as stream:
        summary = make_reader(stream).get_summary()
        if summary is None or not summary.chunk_indexes:
            yield from _scan_samples(path, topics, start_ns, end_ns)
            return
        channels = {cid: (channel.topic, summary.schemas[channel.schema_id].name
                          if channel.schema_id in summary.schemas else "")
                    for cid, channel in summary.channels.items() if topics is None or channel.topic in topics}
        for index in sorted(summary.chunk_indexes, key=lambda i: i.chunk_start_offset):  # file order
            if (end_ns is not None and index.message_start_time > end_ns) or (
                    start_ns is not None and index.message_end_time < start_ns):
                continue
            stream.seek(index.chunk_start_offset + _RECORD_PREFIX.size)
            records, size = get_chunk_data_stream(Chunk.read(ReadDataStream(stream)))
            yield from _chunk_messages(records.read(size), channels, start_ns, end_ns)


def _chunk_messages(
    data: bytes, channels: dict[int, tuple[str, str]], start_ns: int | None, end_ns: int | None
) -> Iterator[RecordedSample]:
    low, high = -1 if start_ns is None else start_ns, 2**64 if end_ns is None else end_ns
    offset, size = 0, len(data)
    while offset < size:
        opcode, length = _RECORD_PREFIX.unpack_from(data, offset)
        body = offset + _RECORD_PREFIX.size
        offset = body + length
        if opcode != Opcode.MESSAGE:
            continue
        channel_id, sequence, log_time, publish_time = _MESSAGE_HEAD.unpack_from(data, body)
        if low <= log_time <= high and channel_id in channels:
            topic, ros_type = channels[channel_id]
            yield RecordedSample(topic, ros_type, log_time, publish_time, sequence,
                                 data[body + _MESSAGE_HEAD.size : offset])


def _scan_samples(
    path: Path, topics: Collection[str] | None, start_ns: int | None, end_ns: int | None
) -> Iterator[RecordedSample]:
    schemas: dict[int, str] = {}
    channels: dict[int, Channel] = {}
    for record in scan_records(path):
        if isinstance(record, Message):
            channel = channels.get(record.channel_id)
            if channel is None or (topics is not None and channel.topic not in topics):
                continue
            early = start_ns is not None and record.log_time < start_ns
            if early or (end_ns is not None and record.log_time > end_ns):
                continue
            yield RecordedSample(channel.topic, schemas.get(channel.schema_id, ""), record.log_time,
                                 record.publish_time, record.sequence, record.data)
        elif isinstance(record, Schema):
            schemas[record.id] = record.name
        elif isinstance(record, Channel):
            channels[record.id] = record


def count_samples(path: Path) -> int:
    """How many samples of `path` can be read (a `.part` up to its first cut-off record)."""
    return sum(1 for record in scan_records(path) if isinstance(record, Message))


def file_metadata(path: Path) -> dict[str, str]:
    """The `telemetry` metadata record (fleet, region, vehicle) of a closed or open segment."""
    for record in scan_records(path):
        if isinstance(record, Metadata) and record.name == METADATA_NAME:
            return dict(record.metadata)
        if isinstance(record, Message):
            break
    return {}
