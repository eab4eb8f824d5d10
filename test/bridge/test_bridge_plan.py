"""The bridge's plan: which streams it forwards, under which key, and the catalogue it answers."""

from __future__ import annotations

import json

import pytest

from telemetry.bridge.plan import (
    BridgedStream,
    catalogue_json,
    starts_with_header,
    stream_from_config,
    stream_from_graph,
)
from telemetry.codec import TypeStore
from telemetry.config import Priority, StreamConfig, VehicleConfig
from telemetry.keys import KeySpace


@pytest.mark.parametrize(
    "ros_type",
    ["sensor_msgs/msg/Imu", "nav_msgs/msg/Odometry", "sensor_msgs/msg/NavSatFix",
     "sensor_msgs/msg/BatteryState", "sensor_msgs/msg/Temperature", "sensor_msgs/Imu"],
)
def test_starts_with_header_is_true_for_stamped_sensor_types(store: TypeStore, ros_type: str) -> None:
    assert starts_with_header(store, ros_type) is True


@pytest.mark.parametrize(
    "ros_type",
    ["std_msgs/msg/String", "std_msgs/msg/Float64", "geometry_msgs/msg/Twist",
     "builtin_interfaces/msg/Time", "telemetry/msg/SampleBatch"],
)
def test_starts_with_header_is_false_for_types_without_a_leading_header(store: TypeStore, ros_type: str) -> None:
    assert starts_with_header(store, ros_type) is False


def test_starts_with_header_is_false_for_unknown_and_malformed_type_names(store: TypeStore) -> None:
    assert starts_with_header(store, "fake_msgs/msg/Nothing") is False
    assert starts_with_header(store, "not a type") is False


def test_starts_with_header_needs_the_header_first_and_not_as_an_array() -> None:
    store = TypeStore.from_environment()
    store.add_definition("test_msgs/msg/HeaderSecond", "string name\nstd_msgs/Header header\n")
    store.add_definition("test_msgs/msg/HeaderArray", "std_msgs/Header[] headers\n")
    store.add_definition("test_msgs/msg/HeaderFirst", "std_msgs/Header header\nfloat64 value\n")
    store.add_definition("test_msgs/msg/Empty", "")
    assert starts_with_header(store, "test_msgs/msg/HeaderSecond") is False
    assert starts_with_header(store, "test_msgs/msg/HeaderArray") is False
    assert starts_with_header(store, "test_msgs/msg/HeaderFirst") is True
    assert starts_with_header(store, "test_msgs/msg/Empty") is False


def vehicle_with(*streams: StreamConfig) -> VehicleConfig:
    return VehicleConfig("rover-01", "eu-west", 42, streams)


def test_a_configured_stream_goes_on_the_data_key_with_its_options(store: TypeStore) -> None:
    config = StreamConfig("/imu/data", "sensor_msgs/msg/Imu", 1000.0, Priority.DATA_HIGH, max_rate_hz=50.0)
    stream = stream_from_config(config, vehicle_with(config), KeySpace(), store)
    assert stream == BridgedStream(
        topic="/imu/data",
        ros_type="sensor_msgs/msg/Imu",
        key="telemetry/data/eu-west/rover-01/imu/data",
        expected_hz=1000.0,
        priority=Priority.DATA_HIGH,
        reliable=False,
        max_rate_hz=50.0,
        batch_ms=None,
        stamp_from_header=True,
    )
    assert stream.forwarded_hz == 50.0


def test_a_batched_stream_goes_on_the_batch_key_under_the_configured_root(store: TypeStore) -> None:
    config = StreamConfig("/odom", "nav_msgs/msg/Odometry", 100.0, batch_ms=20.0, reliable=True)
    stream = stream_from_config(config, vehicle_with(config), KeySpace("fleet/telemetry"), store)
    assert stream.key == "fleet/telemetry/batch/eu-west/rover-01/odom"
    assert (stream.batch_ms, stream.reliable, stream.forwarded_hz) == (20.0, True, 100.0)


def test_a_graph_stream_has_no_expected_rate_and_reads_its_stamp_by_type(store: TypeStore) -> None:
    plain = stream_from_graph("/extra/temp", "std_msgs/msg/Float64", "lab", "probe-1", KeySpace(), store)
    assert plain.key == "telemetry/data/lab/probe-1/extra/temp"
    assert plain.expected_hz is None and plain.forwarded_hz is None
    assert plain.stamp_from_header is False and plain.priority is Priority.DATA
    stamped = stream_from_graph("/extra/t2", "sensor_msgs/msg/Temperature", "lab", "probe-1", KeySpace(), store)
    assert stamped.stamp_from_header is True


@pytest.mark.parametrize(
    ("expected_hz", "max_rate_hz", "forwarded_hz"),
    [(1000.0, None, 1000.0), (1000.0, 50.0, 50.0), (10.0, 10.0, 10.0), (None, None, None), (None, 5.0, 5.0)],
)
def test_forwarded_rate_is_the_lower_of_the_topic_rate_and_the_limit(
    expected_hz: float | None, max_rate_hz: float | None, forwarded_hz: float | None
) -> None:
    stream = BridgedStream("/a", "std_msgs/msg/String", "telemetry/data/r/v/a", expected_hz, max_rate_hz=max_rate_hz)
    assert stream.forwarded_hz == forwarded_hz


def test_the_catalogue_lists_every_stream_with_its_options_counters_and_health(store: TypeStore) -> None:
    imu = StreamConfig("/imu", "sensor_msgs/msg/Imu", 1000.0, Priority.DATA_HIGH, max_rate_hz=50.0)
    odom = StreamConfig("/odom", "nav_msgs/msg/Odometry", 100.0, batch_ms=20.0, reliable=True)
    vehicle = vehicle_with(imu, odom)
    streams = [stream_from_config(s, vehicle, KeySpace(), store) for s in (imu, odom)]
    counters = {"/imu": {"received": 10, "forwarded": 1, "malformed": 0}}

    raw = catalogue_json("eu-west", "rover-01", streams, counters, {"unknown_types": 1, "type_mismatches": 0})
    assert isinstance(raw, bytes)
    catalogue = json.loads(raw)
    assert catalogue == {
        "version": 1,
        "region": "eu-west",
        "vehicle": "rover-01",
        "health": {"unknown_types": 1, "type_mismatches": 0},
        "streams": [
            {"topic": "/imu", "type": "sensor_msgs/msg/Imu", "key": "telemetry/data/eu-west/rover-01/imu",
             "expected_hz": 50.0, "rate_hz": 1000.0, "max_rate_hz": 50.0, "batch_ms": None,
             "priority": "data_high", "reliable": False, "stamp_from_header": True,
             "counters": {"received": 10, "forwarded": 1, "malformed": 0}},
            {"topic": "/odom", "type": "nav_msgs/msg/Odometry", "key": "telemetry/batch/eu-west/rover-01/odom",
             "expected_hz": 100.0, "rate_hz": 100.0, "max_rate_hz": None, "batch_ms": 20.0,
             "priority": "data", "reliable": True, "stamp_from_header": True, "counters": {}},
        ],
    }


def test_the_catalogue_of_a_bridge_with_no_streams_is_still_valid_json() -> None:
    catalogue = json.loads(catalogue_json("lab", "probe-1", []))
    assert catalogue == {"version": 1, "region": "lab", "vehicle": "probe-1", "health": {}, "streams": []}
