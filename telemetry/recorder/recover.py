"""Repair a segment left as `.part` by a crash: rewrite what can be read into a valid file.

The `mcap` library's indexed reader refuses a file without a summary, and the `mcap recover`
command exists only in the Rust CLI; so every whole record is scanned (archive.scan_records)
and written again, with the schemas, channels and metadata it had, into a file with indexes
and statistics. The loss is bounded by how often the recorder ended a chunk (once a second).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from mcap.records import Channel, Message, Metadata, Schema
from mcap.writer import CompressionType, IndexType, Writer

from telemetry.errors import TelemetryError
from telemetry.recorder.archive import scan_records
from telemetry.recorder.layout import PART_SUFFIX, closed_path
from telemetry.recorder.segment import CHUNK_BYTES, PROFILE

__all__ = ["Recovered", "recover_segment"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovered:
    """What a repair saved: the valid file it wrote and how many samples it holds."""

    path: Path
    samples: int
    channels: int


def recover_segment(part: Path) -> Recovered:
    """Rewrite `part` (a `.part`, or any MCAP cut short) into a valid file beside it.

    A `.part` becomes the closed name and is removed; another file becomes `<stem>.recovered.mcap`
    and is kept. TelemetryError when the file is missing or holds no MCAP at all."""
    if not part.is_file():
        raise TelemetryError(f"{part}: no such file")
    out = closed_path(part) if part.name.endswith(PART_SUFFIX) else part.with_name(part.stem + ".recovered.mcap")
    scratch = out.with_name(out.name + ".repairing")
    samples = 0
    channel_ids: dict[int, int] = {}
    schema_ids: dict[int, int] = {}
    try:
        with scratch.open("wb") as stream:
            writer = Writer(stream, chunk_size=CHUNK_BYTES, compression=CompressionType.ZSTD, index_types=IndexType.ALL)
            writer.start(profile=PROFILE, library="telemetry recover")
            for record in scan_records(part):
                if isinstance(record, Message):
                    channel_id = channel_ids.get(record.channel_id)
                    if channel_id is not None:
                        writer.add_message(channel_id, record.log_time, record.data, record.publish_time,
                                           record.sequence)
                        samples += 1
                elif isinstance(record, Schema) and record.id not in schema_ids:
                    schema_ids[record.id] = writer.register_schema(record.name, record.encoding, record.data)
                elif isinstance(record, Channel) and record.id not in channel_ids:
                    schema_id = schema_ids.get(record.schema_id, 0)
                    channel_ids[record.id] = writer.register_channel(
                        record.topic, record.message_encoding, schema_id, dict(record.metadata))
                elif isinstance(record, Metadata):
                    writer.add_metadata(record.name, dict(record.metadata))
            writer.finish()
        scratch.replace(out)
    except OSError as error:
        scratch.unlink(missing_ok=True)
        raise TelemetryError(f"{part}: cannot repair: {error.strerror or error}") from None
    if not channel_ids and part.stat().st_size > 0 and samples == 0 and not _starts_as_mcap(part):
        out.unlink(missing_ok=True)
        raise TelemetryError(f"{part}: not an MCAP file")
    if part.name.endswith(PART_SUFFIX):
        part.unlink()
    _log.info("repaired %s: %d samples saved in %s", part, samples, out)
    return Recovered(out, samples, len(channel_ids))


def _starts_as_mcap(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(8) == b"\x89MCAP0\r\n"
