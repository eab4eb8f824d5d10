"""What the bridge forwards: one `BridgedStream` per ROS topic, from the fleet config or
discovered on the graph, and the catalogue the vehicle answers on its meta key."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from telemetry.codec import CodecError, TypeStore
from telemetry.codec.names import HEADER
from telemetry.config import Priority, StreamConfig, VehicleConfig
from telemetry.keys import KeySpace

__all__ = ["BridgedStream", "catalogue_json", "starts_with_header", "stream_from_config", "stream_from_graph"]

#: rclpy's sensor-data QoS keeps the last 5 samples.
_SENSOR_DATA_DEPTH = 5


@dataclass(frozen=True)
class BridgedStream:
    """One ROS topic and how it goes onto Zenoh."""

    topic: str
    ros_type: str
    key: str  # telemetry/data/...: every message of the stream, one sample or a SampleBatch
    expected_hz: float | None  # None when discovered on the graph with no config
    priority: Priority = Priority.DATA
    reliable: bool = False
    max_rate_hz: float | None = None
    batch_ms: float | None = None
    queue_depth: int | None = None  # the DDS reader's history depth; None: the QoS default
    stamp_from_header: bool = False

    @property
    def budget_ns(self) -> int:
        """How long the bridge may hold a sample (`batch_ms`), 0 when holding gains nothing.

        A budget shorter than one expected period cannot gather a second sample, only
        delay the first (and cost a second wake-up), so such a stream is sent at once.
        """
        if not self.batch_ms:
            return 0
        rate_hz = self.forwarded_hz
        if rate_hz is not None and self.batch_ms * rate_hz < 1000.0:
            return 0
        return round(self.batch_ms * 1e6)

    @property
    def reader_depth(self) -> int | None:
        """The DDS history depth the bridge subscribes with: `queue_depth`, else deep enough for
        the samples of two budgets (they wait in that queue, see telemetry.bridge.budget), or
        None for the QoS profile's own."""
        if self.queue_depth is not None:
            return self.queue_depth
        if self.budget_ns and self.expected_hz:
            return max(_SENSOR_DATA_DEPTH, math.ceil(2 * self.expected_hz * self.budget_ns / 1e9) + 2)
        return None

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
    return bool(fields) and fields[0].type.name == HEADER and fields[0].array.value == "none"


def stream_from_config(
    stream: StreamConfig, vehicle: VehicleConfig, keys: KeySpace, store: TypeStore
) -> BridgedStream:
    return BridgedStream(
        topic=stream.topic,
        ros_type=stream.ros_type,
        key=keys.data(vehicle.region, vehicle.name, stream.topic),
        expected_hz=stream.rate_hz,
        priority=stream.priority,
        reliable=stream.reliable,
        max_rate_hz=stream.max_rate_hz,
        batch_ms=stream.batch_ms,
        queue_depth=stream.queue_depth,
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
                    "reader_depth": s.reader_depth,
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
