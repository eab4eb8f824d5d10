"""`telemetry history`: a vehicle's recorded samples asked for over Zenoh, from anywhere on
the fleet's routers, written as JSON lines or as an MCAP file.

The query always says `_time` and asks for no consolidation: without either, Zenoh would
keep only the latest reply per key, one sample instead of five minutes of them.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import zenoh

from telemetry.codec import TypeStore
from telemetry.codec.attachment import unpack_fields
from telemetry.errors import TelemetryError
from telemetry.keys import KeyKind, KeySpace, topic_to_key, validate_name
from telemetry.recorder.segment import ChannelSpec, SegmentWriter

__all__ = ["FetchedSample", "HistoryRequest", "fetch_history", "write_jsonl", "write_mcap"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HistoryRequest:
    """What to ask for: one vehicle (any region unless given), a topic or all, a `_time` value."""

    keys: KeySpace
    vehicle: str
    time_value: str  # e.g. `[now(-5m)..]`
    topic: str | None = None  # None: every topic
    region: str | None = None

    def selector(self) -> str:
        region = "*" if self.region is None else validate_name(self.region, "region")
        base = f"{self.keys.root}/{KeyKind.HISTORY.value}/{region}/{validate_name(self.vehicle, 'vehicle')}"
        key = f"{base}/{topic_to_key(self.topic)}" if self.topic else f"{base}/**"
        return f"{key}?_time={self.time_value}"


@dataclass(frozen=True)
class FetchedSample:
    """One reply: where it came from, its type, its times (from the attachment) and its bytes."""

    region: str
    vehicle: str
    topic: str
    ros_type: str
    sequence: int
    source_ns: int
    receive_ns: int  # when the recorder received it (the attachment's send-time field)
    data: bytes


def fetch_history(session: zenoh.Session, request: HistoryRequest, timeout_s: float) -> Iterator[FetchedSample]:
    """Every sample the recorders answer with; TelemetryError on an error reply (after the samples before it)."""
    selector = request.selector()
    replies = session.get(selector, target=zenoh.QueryTarget.ALL,
                          consolidation=zenoh.ConsolidationMode.NONE, timeout=timeout_s)
    errors: list[str] = []
    for reply in replies:
        sample = reply.ok
        if sample is None:
            error = reply.err
            errors.append(error.payload.to_string() if error is not None else "unknown error")
            continue
        parsed = request.keys.parse(str(sample.key_expr))
        attachment = sample.attachment
        if attachment is None or parsed.region is None or parsed.vehicle is None or parsed.topic is None:
            _log.warning("%s: a reply without attachment or topic, skipped", sample.key_expr)
            continue
        _, sequence, source_ns, receive_ns = unpack_fields(attachment.to_bytes())
        yield FetchedSample(parsed.region, parsed.vehicle, parsed.topic, str(sample.encoding).partition(";")[2],
                            sequence, source_ns, receive_ns, sample.payload.to_bytes())
    if errors:
        raise TelemetryError(f"{selector}: " + "; ".join(errors))


def write_jsonl(samples: Iterator[FetchedSample], store: TypeStore, out: TextIO) -> int:
    """One JSON object per sample, its message decoded (or base64 when its type is unknown here)."""
    count = 0
    for sample in samples:
        record: dict[str, Any] = {
            "region": sample.region, "vehicle": sample.vehicle, "topic": sample.topic, "type": sample.ros_type,
            "sequence": sample.sequence, "source_time_ns": sample.source_ns, "receive_time_ns": sample.receive_ns,
            "size": len(sample.data),
        }
        try:
            record["message"] = _plain(store.decode(sample.ros_type, sample.data))
        except TelemetryError:
            record["data_base64"] = base64.b64encode(sample.data).decode()
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
        count += 1
    return count


def write_mcap(samples: Iterator[FetchedSample], store: TypeStore, path: Path, identity: dict[str, str]) -> int:
    """The samples (of one vehicle) as one MCAP file in the recorder's layout."""
    writer: SegmentWriter | None = None
    count = 0
    try:
        for sample in samples:
            if writer is None:
                meta = {**identity, "region": sample.region, "vehicle": sample.vehicle}
                writer = SegmentWriter(path, store, meta, sample.receive_ns)
            if not writer.has_channel(sample.topic):
                writer.add_channel(ChannelSpec(sample.topic, sample.ros_type))
            writer.write(sample.topic, sample.receive_ns, sample.source_ns, sample.sequence, sample.data)
            count += 1
    finally:
        if writer is not None:
            writer.close()
    return count


def _plain(value: Any) -> Any:
    """A decoded message as JSON-ready values (pycdr2 messages are dataclasses)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return list(value)
    return value

