"""Configuration files: the fleet description, read strictly into plain frozen data.

`model` holds the frozen dataclasses, `yaml_fields` the strict YAML loader and typed field
readers that every config file shares, and `fleet` the checks specific to config/fleet.yaml.
Every mistake is a `ConfigError` naming the file, the path inside it and what is wrong.
Nothing here imports rclpy, zenoh or textual.
"""

from __future__ import annotations

from telemetry.config.fleet import (
    MAX_BATCH_MS,
    MAX_ROS_DOMAIN_ID,
    default_fleet_config_path,
    load_fleet_config,
    parse_fleet_config,
    rmw_zenoh_map,
)
from telemetry.config.model import (
    AlertThresholds,
    FleetConfig,
    Priority,
    RecordedStreams,
    RecordingConfig,
    RegionConfig,
    RetentionConfig,
    RouterConfig,
    StreamConfig,
    VehicleConfig,
    VehicleSource,
)
from telemetry.config.shipped import shipped_file
from telemetry.errors import ConfigError

__all__ = [
    "MAX_BATCH_MS",
    "MAX_ROS_DOMAIN_ID",
    "AlertThresholds",
    "ConfigError",
    "FleetConfig",
    "Priority",
    "RecordedStreams",
    "RecordingConfig",
    "RegionConfig",
    "RetentionConfig",
    "RouterConfig",
    "StreamConfig",
    "VehicleConfig",
    "VehicleSource",
    "default_fleet_config_path",
    "load_fleet_config",
    "parse_fleet_config",
    "rmw_zenoh_map",
    "shipped_file",
]
