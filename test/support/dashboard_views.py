"""Hand-made dashboard views for the pure dashboard tests: one healthy 1 kHz Imu stream,
changed field by field with `stream_view(..., lost=3)`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from telemetry.dashboard.view import StreamView

__all__ = ["HEALTHY_IMU", "stream_view"]

HEALTHY_IMU = StreamView(
    topic="/imu",
    ros_type="sensor_msgs/msg/Imu",
    batched=False,
    window_s=5.0,
    rate_hz=1000.0,
    expected_hz=1000.0,
    rate_ratio=1.0,
    latency_p50_ms=1.0,
    latency_p90_ms=2.0,
    latency_p99_ms=3.0,
    latency_max_ms=4.0,
    jitter_ms=0.1,
    received=5000,
    lost=0,
    lost_total=0,
    restarts_total=0,
    bytes_per_s=100_000.0,
    stale=False,
)


def stream_view(topic: str = "/imu", **values: Any) -> StreamView:
    return replace(HEALTHY_IMU, topic=topic, **values)
