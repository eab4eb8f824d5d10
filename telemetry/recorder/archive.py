"""Reading samples back out of segments: closed ones by their index, open or crashed ones
by scanning what has reached the disk.

A closed segment has a summary (chunk indexes by time), so a time range touches only the
chunks it needs. A `.part` has none: it is read record by record up to the first one that is
cut off, which is exactly what a crash or the writer's last flush left readable.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from mcap.exceptions import McapError
from mcap.reader import make_reader
from mcap.records import Channel, McapRecord, Message, Metadata, Schema
from mcap.stream_reader import StreamReader

from telemetry.recorder.layout import PART_SUFFIX
from telemetry.recorder.segment import METADATA_NAME

__all__ = ["RecordedSample", "count_samples", "file_metadata", "read_samples", "scan_records"]

_log = logging.getLogger(__name__)


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
    """Samples of `topics` (None: all) received in [start_ns, end_ns], in receive-time order."""
    if path.name.endswith(PART_SUFFIX):
        yield from sorted(_scan_samples(path, topics, start_ns, end_ns), key=lambda s: s.receive_ns)
        return
    with path.open("rb") as stream:
        reader = make_reader(stream)
        end = None if end_ns is None else end_ns + 1  # the library's end is exclusive
        for schema, channel, message in reader.iter_messages(topics, start_ns, end, log_time_order=True):
            yield RecordedSample(channel.topic, schema.name if schema else "", message.log_time,
                                 message.publish_time, message.sequence, message.data)


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
