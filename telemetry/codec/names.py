"""The ROS type names of the messages the fleet exchanges: one definition, imported everywhere.

The project's own types live in msg/ (package `telemetry`); `builtin_interfaces/Time` is the
stamp inside them.
"""

from __future__ import annotations

__all__ = [
    "BAD_INPUT_COUNT",
    "BRIDGE_HEALTH",
    "FLEET_STATUS",
    "HEADER",
    "RECORDER_STATUS",
    "SAMPLE_BATCH",
    "STREAM_HEALTH",
    "STREAM_STATS",
    "TIME",
    "VEHICLE_STATS",
]

TIME = "builtin_interfaces/msg/Time"
#: A sensor message's first field when it has a source stamp (`header.stamp`).
HEADER = "std_msgs/msg/Header"
SAMPLE_BATCH = "telemetry/msg/SampleBatch"
STREAM_STATS = "telemetry/msg/StreamStats"
VEHICLE_STATS = "telemetry/msg/VehicleStats"
FLEET_STATUS = "telemetry/msg/FleetStatus"
BAD_INPUT_COUNT = "telemetry/msg/BadInputCount"
BRIDGE_HEALTH = "telemetry/msg/BridgeHealth"
RECORDER_STATUS = "telemetry/msg/RecorderStatus"
STREAM_HEALTH = "telemetry/msg/StreamHealth"
