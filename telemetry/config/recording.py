"""The fleet file's `recording:` section: what the recorder keeps, where, and for how long.

Checked like the rest of the file (unknown fields, bad numbers and bad patterns name their
path), so a recorder never starts with a retention rule that would delete the wrong thing.
"""

from __future__ import annotations

from telemetry.config.model import RecordedStreams, RecordingConfig, RetentionConfig
from telemetry.config.yaml_fields import (
    Context,
    fields,
    join_path,
    key_part,
    non_empty_list,
    non_empty_string,
    optional,
    positive,
)
from telemetry.keys import validate_name

__all__ = ["parse_recording"]

_FIELDS = ("folder", "segment_s", "segment_mb", "retention", "streams", "vehicles")


def parse_recording(context: Context, path: str, value: object) -> RecordingConfig:
    """The `recording:` mapping; each field left out keeps RecordingConfig's default."""
    raw = fields(context, path, value, (), _FIELDS)
    defaults = RecordingConfig()
    return RecordingConfig(
        folder=optional(context, raw, path, "folder", non_empty_string) or defaults.folder,
        segment_s=optional(context, raw, path, "segment_s", positive) or defaults.segment_s,
        segment_mb=optional(context, raw, path, "segment_mb", positive) or defaults.segment_mb,
        retention=optional(context, raw, path, "retention", _retention) or defaults.retention,
        streams=optional(context, raw, path, "streams", _streams) or (),
        vehicles=optional(context, raw, path, "vehicles", _vehicles) or (),
    )


def _retention(context: Context, path: str, value: object) -> RetentionConfig:
    raw = fields(context, path, value, (), ("max_total_mb", "max_age_h"))
    return RetentionConfig(
        optional(context, raw, path, "max_total_mb", positive),
        optional(context, raw, path, "max_age_h", positive),
    )


def _streams(context: Context, path: str, value: object) -> tuple[RecordedStreams, ...]:
    streams = []
    for index, item in enumerate(non_empty_list(context, path, value, "stream")):
        item_path = f"{path}[{index}]"
        raw = fields(context, item_path, item, ("topic",), ("max_rate_hz",))
        topic = non_empty_string(context, join_path(item_path, "topic"), raw["topic"])
        if not topic.startswith(("/", "*")):
            topic = "/" + topic
        streams.append(RecordedStreams(topic, optional(context, raw, item_path, "max_rate_hz", positive)))
    return tuple(streams)


def _vehicles(context: Context, path: str, value: object) -> tuple[str, ...]:
    items = non_empty_list(context, path, value, "vehicle")
    return tuple(
        key_part(context, f"{path}[{i}]", item, lambda n: validate_name(n, "vehicle")) for i, item in enumerate(items)
    )
