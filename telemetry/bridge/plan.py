"""What the bridge forwards: one `BridgedStream` per ROS topic, from the fleet config or
discovered on the graph, and the catalogue the vehicle answers on its meta key."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from telemetry.codec import CodecError, TypeStore
from telemetry.config import Priority, StreamConfig, VehicleConfig
from telemetry.keys import KeySpace

__all__ = ["BridgedStream", "catalogue_json", "starts_with_header", "stream_from_config", "stream_from_graph"]

_HEADER_TYPE = "std_msgs/msg/Header"


@dataclass(frozen=True)
class BridgedStream:
    """One ROS topic and how it goes onto Zenoh."""

    topic: str
    ros_type: str
    key: str  # telemetry/data/... or, when batched, telemetry/batch/...
    expected_hz: float | None  # None when discovered on the graph with no config
    priority: Priority = Priority.DATA
    reliable: bool = False
    max_rate_hz: float | None = None
    batch_ms: float | None = None
    stamp_from_header: bool = False

    @property
    def forwarded_hz(self) -> float | None:
        """The rate the aggregator should expect on the wire."""
        if self.expected_hz is None:
            return self.max_rate_hz
        return min(self.expected_hz, self.max_rate_hz) if self.max_rate_hz else self.expected_hz


def starts_with_header(store: TypeStore, ros_type: str) -> bool:
    """True when the type's first field is a std_msgs/Header (its stamp is the source time).

    Decided once per stream, so the per-sample path only peeks 8 bytes.
    """
    try:
        fields = store.definition(ros_type).fields
    except CodecError:
        return False
    return bool(fields) and fields[0].type.name == _HEADER_TYPE and fields[0].array.value == "none"


def stream_from_config(
    stream: StreamConfig, vehicle: VehicleConfig, keys: KeySpace, store: TypeStore
) -> BridgedStream:
    key_of = keys.batch if stream.batch_ms is not None else keys.data
    return BridgedStream(
        topic=stream.topic,
        ros_type=stream.ros_type,
        key=key_of(vehicle.region, vehicle.name, stream.topic),
        expected_hz=stream.rate_hz,
        priority=stream.priority,
        reliable=stream.reliable,
        max_rate_hz=stream.max_rate_hz,
        batch_ms=stream.batch_ms,
        stamp_from_header=starts_with_header(store, stream.ros_type),
    )


def stream_from_graph(
    topic: str, ros_type: str, region: str, vehicle: str, keys: KeySpace, store: TypeStore
) -> BridgedStream:
    """A topic found on the ROS graph by the bridge's --topics pattern."""
    return BridgedStream(
        topic=topic,
        ros_type=ros_type,
        key=keys.data(region, vehicle, topic),
        expected_hz=None,
        stamp_from_header=starts_with_header(store, ros_type),
    )


def catalogue_json(
    region: str,
    vehicle: str,
    streams: Iterable[BridgedStream],
    counters: Mapping[str, Mapping[str, int]] | None = None,
    health: Mapping[str, int] | None = None,
) -> bytes:
    """The vehicle's stream catalogue, answered on telemetry/meta/<region>/<vehicle>.

    `counters` (per topic) and `health` (bridge-wide problems, such as topics whose type is
    not installed) let an operator or a test see what the bridge dropped and why.
    """
    counters = counters or {}
    return json.dumps(
        {
            "version": 1,
            "region": region,
            "vehicle": vehicle,
            "health": dict(health or {}),
            "streams": [
                {
                    "topic": s.topic,
                    "type": s.ros_type,
                    "key": s.key,
                    "expected_hz": s.forwarded_hz,
                    "rate_hz": s.expected_hz,
                    "max_rate_hz": s.max_rate_hz,
                    "batch_ms": s.batch_ms,
                    "priority": s.priority.value,
                    "reliable": s.reliable,
                    "stamp_from_header": s.stamp_from_header,
                    "counters": dict(counters.get(s.topic, {})),
                }
                for s in streams
            ],
        },
        sort_keys=True,
    ).encode()
