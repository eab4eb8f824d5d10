"""fleet_to_yaml: a FleetConfig written back as fleet YAML that the config reader reads to the same value."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from telemetry.codec import TypeStore
from telemetry.config import (
    AlertThresholds,
    FleetConfig,
    Priority,
    RegionConfig,
    RouterConfig,
    StreamConfig,
    VehicleConfig,
    default_fleet_config_path,
    load_fleet_config,
    parse_fleet_config,
)
from telemetry.demo.fleet_yaml import fleet_to_yaml
from telemetry.demo.scale import scaled_fleet


def _read_back(fleet: FleetConfig, store: TypeStore, comment: str = "") -> FleetConfig:
    """What a child process reads from the written file, with the in-memory fleet's source."""
    read = parse_fleet_config(fleet_to_yaml(fleet, comment), "written.yaml", store)
    assert read.source == "written.yaml"
    return replace(read, source=fleet.source)


def _fleet_with_every_stream_option() -> FleetConfig:
    streams = (
        StreamConfig("/imu", "sensor_msgs/msg/Imu", 1000.0, Priority.DATA_HIGH),
        StreamConfig("/odom", "nav_msgs/msg/Odometry", 100.0, Priority.DATA, max_rate_hz=25.0),
        StreamConfig("/gnss", "sensor_msgs/msg/NavSatFix", 10.0, Priority.DATA_LOW, batch_ms=200.0),
        StreamConfig("/battery", "sensor_msgs/msg/BatteryState", 0.5, Priority.BACKGROUND, reliable=True),
        StreamConfig("/lidar/status", "sensor_msgs/msg/BatteryState", 40.0, Priority.REAL_TIME,
                     max_rate_hz=12.5, batch_ms=50.0, reliable=True),
    )
    return FleetConfig(
        source="hand-made.yaml",
        key_root="acme/telemetry",
        cloud=RouterConfig(("tcp/127.0.0.1:17447", "tcp/[::1]:17447")),
        regions=(
            RegionConfig("eu-west", RouterConfig(("tcp/127.0.0.1:17448",))),
            RegionConfig("ap-south", RouterConfig(("unixsock-stream//tmp/ap-south.sock",))),
        ),
        vehicles=(
            VehicleConfig("scout-7", "ap-south", 0, streams),
            VehicleConfig("scout-8", "eu-west", 232, streams[:1]),
        ),
        alerts=AlertThresholds(min_rate_ratio=0.75, max_latency_p99_ms=2.5),
    )


def test_the_shipped_fleet_reads_back_equal(store: TypeStore) -> None:
    shipped = load_fleet_config(default_fleet_config_path(), store)
    assert _read_back(shipped, store) == shipped


def test_streams_with_max_rate_batch_and_reliable_read_back_equal(store: TypeStore) -> None:
    fleet = _fleet_with_every_stream_option()

    read = _read_back(fleet, store)

    assert read == fleet
    lidar = read.vehicle("scout-7").streams[4]
    assert (lidar.max_rate_hz, lidar.batch_ms, lidar.reliable, lidar.forwarded_rate_hz) == (12.5, 50.0, True, 12.5)


def test_optional_stream_fields_are_written_only_when_set() -> None:
    data = yaml.safe_load(fleet_to_yaml(_fleet_with_every_stream_option()))
    streams = data["vehicles"][0]["streams"]

    assert streams[0] == {"topic": "/imu", "type": "sensor_msgs/msg/Imu", "rate_hz": 1000.0, "priority": "data_high"}
    assert streams[3]["reliable"] is True
    assert "reliable" not in streams[1] and "batch_ms" not in streams[1]


def test_a_scaled_fleet_of_150_vehicles_reads_back_equal(store: TypeStore) -> None:
    fleet = scaled_fleet(load_fleet_config(default_fleet_config_path(), store), 150)
    assert _read_back(fleet, store) == fleet


def test_names_yaml_would_read_as_booleans_or_numbers_come_back_as_strings(store: TypeStore) -> None:
    fleet = replace(
        _fleet_with_every_stream_option(),
        regions=(RegionConfig("no", RouterConfig(("tcp/127.0.0.1:17448",))),),
        vehicles=(VehicleConfig("0012", "no", 5, (StreamConfig("/imu", "sensor_msgs/msg/Imu", 100.0),)),),
    )
    read = _read_back(fleet, store)

    assert read == fleet
    assert (read.regions[0].name, read.vehicles[0].name) == ("no", "0012")


def test_each_comment_line_comes_out_as_a_yaml_comment_before_the_data() -> None:
    text = fleet_to_yaml(_fleet_with_every_stream_option(), "fleet.yaml: 2 vehicles\nmade by a test")
    assert text.startswith("# fleet.yaml: 2 vehicles\n# made by a test\nkey_root: acme/telemetry\n")


def test_a_comment_that_looks_like_yaml_does_not_change_the_data(store: TypeStore) -> None:
    fleet = _fleet_with_every_stream_option()
    assert _read_back(fleet, store, "vehicles: []\n- not yaml: [") == fleet


def test_without_a_comment_the_text_starts_with_the_data() -> None:
    assert fleet_to_yaml(_fleet_with_every_stream_option()).startswith("key_root: acme/telemetry\n")


@pytest.mark.parametrize("vehicles", [1, 3, 100])
def test_the_written_text_loads_from_a_file_as_the_children_read_it(
    vehicles: int, store: TypeStore, tmp_path: Path
) -> None:
    fleet = scaled_fleet(load_fleet_config(default_fleet_config_path(), store), vehicles)
    path = tmp_path / "fleet.yaml"
    path.write_text(fleet_to_yaml(fleet, f"{vehicles} vehicles"), encoding="utf-8")

    read = load_fleet_config(path, store)

    assert read.source == str(path)
    assert replace(read, source=fleet.source) == fleet
