"""Write a `FleetConfig` back as fleet YAML that `load_fleet_config` reads to the same value.

The demo's `--vehicles N` fleet exists only in memory; its child processes read configs
from files, so it is written next to the run's logs (which also records what ran).
"""

from __future__ import annotations

from typing import Any

import yaml

from telemetry.config import FleetConfig, RecordingConfig, StreamConfig, VehicleSource

__all__ = ["fleet_to_yaml"]


def _stream(stream: StreamConfig) -> dict[str, Any]:
    data: dict[str, Any] = {
        "topic": stream.topic,
        "type": stream.ros_type,
        "rate_hz": stream.rate_hz,
        "priority": stream.priority.value,
    }
    if stream.max_rate_hz is not None:
        data["max_rate_hz"] = stream.max_rate_hz
    if stream.batch_ms is not None:
        data["batch_ms"] = stream.batch_ms
    if stream.queue_depth is not None:
        data["queue_depth"] = stream.queue_depth
    if stream.reliable:
        data["reliable"] = True
    return data


def _recording(recording: RecordingConfig, vehicles: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"folder": recording.folder, "segment_s": recording.segment_s,
                            "segment_mb": recording.segment_mb}
    retention = {key: value for key, value in (("max_total_mb", recording.retention.max_total_mb),
                                               ("max_age_h", recording.retention.max_age_h)) if value is not None}
    if retention:
        data["retention"] = retention
    if recording.streams:
        data["streams"] = [{"topic": s.topic, **({"max_rate_hz": s.max_rate_hz} if s.max_rate_hz else {})}
                           for s in recording.streams]
    kept = [name for name in recording.vehicles if name in vehicles]  # a resized fleet may lack some
    if kept:
        data["vehicles"] = kept
    return data


def fleet_to_yaml(fleet: FleetConfig, comment: str = "") -> str:
    data = {
        "key_root": fleet.key_root,
        "cloud": {"router": {"listen": list(fleet.cloud.listen)}},
        "regions": [{"name": r.name, "router": {"listen": list(r.router.listen)}} for r in fleet.regions],
        "alerts": {
            "min_rate_ratio": fleet.alerts.min_rate_ratio,
            "max_latency_p99_ms": fleet.alerts.max_latency_p99_ms,
        },
        "vehicles": [
            {
                "name": v.name,
                "region": v.region,
                "ros_domain_id": v.ros_domain_id,
                **({"source": v.source.value, "namespace": v.namespace} if v.source is VehicleSource.RMW_ZENOH else {}),
                "streams": [_stream(s) for s in v.streams],
            }
            for v in fleet.vehicles
        ],
        "recording": _recording(fleet.recording, {v.name for v in fleet.vehicles}),
    }
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    return header + yaml.safe_dump(data, sort_keys=False)
