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
        queue_depth=None,
        stamp_from_header=True,
    )
    assert stream.forwarded_hz == 50.0


def test_a_budgeted_stream_sends_everything_on_its_data_key_under_the_configured_root(store: TypeStore) -> None:
    config = StreamConfig("/odom", "nav_msgs/msg/Odometry", 100.0, batch_ms=20.0, reliable=True, queue_depth=12)
    stream = stream_from_config(config, vehicle_with(config), KeySpace("fleet/telemetry"), store)
    assert stream.key == "fleet/telemetry/data/eu-west/rover-01/odom"  # samples alone and batches
    assert (stream.batch_ms, stream.reliable, stream.forwarded_hz, stream.queue_depth) == (20.0, True, 100.0, 12)


def test_a_graph_stream_has_no_expected_rate_and_reads_its_stamp_by_type(store: TypeStore) -> None:
    plain = stream_from_graph("/extra/temp", "std_msgs/msg/Float64", "lab", "probe-1", KeySpace(), store)
    assert plain.key == "telemetry/data/lab/probe-1/extra/temp"
    assert plain.budget_ns == 0 and plain.reader_depth is None
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
    stream = BridgedStream("/a", "std_msgs/msg/String", key="telemetry/data/r/v/a",
                           expected_hz=expected_hz, max_rate_hz=max_rate_hz)
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
             "expected_hz": 50.0, "rate_hz": 1000.0, "max_rate_hz": 50.0, "batch_ms": None, "reader_depth": None,
             "priority": "data_high", "reliable": False, "stamp_from_header": True,
             "counters": {"received": 10, "forwarded": 1, "malformed": 0}},
            {"topic": "/odom", "type": "nav_msgs/msg/Odometry", "key": "telemetry/data/eu-west/rover-01/odom",
             "expected_hz": 100.0, "rate_hz": 100.0, "max_rate_hz": None, "batch_ms": 20.0,
             "reader_depth": 6,  # deep enough for two budgets: ceil(2 * 100 Hz * 20 ms) + 2
             "priority": "data", "reliable": True, "stamp_from_header": True, "counters": {}},
        ],
    }


def test_the_catalogue_of_a_bridge_with_no_streams_is_still_valid_json() -> None:
    catalogue = json.loads(catalogue_json("lab", "probe-1", []))
    assert catalogue == {"version": 1, "region": "lab", "vehicle": "probe-1", "health": {}, "streams": []}


# --- latency budget and reader depth --------------------------------------------------------


def budgeted(expected_hz: float | None, batch_ms: float | None, max_rate_hz: float | None = None,
             queue_depth: int | None = None) -> BridgedStream:
    return BridgedStream("/a", "sensor_msgs/msg/Imu", key="telemetry/data/r/v/a",
                         expected_hz=expected_hz, max_rate_hz=max_rate_hz, batch_ms=batch_ms, queue_depth=queue_depth)


@pytest.mark.parametrize("batch_ms", [None, 0.0])
def test_a_stream_without_a_budget_is_sent_at_once(batch_ms: float | None) -> None:
    assert budgeted(1000.0, batch_ms).budget_ns == 0


def test_a_budget_shorter_than_one_period_is_sent_at_once() -> None:
    assert budgeted(100.0, 5.0).budget_ns == 0  # a 100 Hz stream's next sample comes after 10 ms
    assert budgeted(1000.0, 5.0, max_rate_hz=100.0).budget_ns == 0  # the rate after downsampling counts
    assert budgeted(1000.0, 0.5).budget_ns == 0


@pytest.mark.parametrize(
    ("expected_hz", "batch_ms", "budget_ns"),
    [(1000.0, 5.0, 5_000_000), (100.0, 10.0, 10_000_000), (1000.0, 2.5, 2_500_000),
     (1000.0, 1.0000004, 1_000_000), (None, 20.0, 20_000_000)],
)
def test_a_budget_of_one_period_or_more_is_batch_ms_in_whole_ns(
    expected_hz: float | None, batch_ms: float, budget_ns: int
) -> None:
    """A stream of unknown rate (found on the graph) keeps its budget: nothing says it is too short."""
    assert budgeted(expected_hz, batch_ms).budget_ns == budget_ns


def test_the_configured_queue_depth_wins_whatever_the_budget() -> None:
    assert budgeted(1000.0, 20.0, queue_depth=3).reader_depth == 3
    assert budgeted(1000.0, None, queue_depth=200).reader_depth == 200


@pytest.mark.parametrize(
    ("expected_hz", "batch_ms", "reader_depth"),
    [(1000.0, 20.0, 42),  # ceil(2 * 1000 Hz * 20 ms) + 2
     (1000.0, 2.5, 7),  # ceil(2 * 1000 Hz * 2.5 ms) + 2
     (100.0, 10.0, 5),  # 2 * 1 + 2 = 4, but never below the sensor-data QoS's 5
     (50.0, 1000.0, 102)],
)
def test_a_budgeted_stream_reads_with_room_for_two_budgets_of_samples(
    expected_hz: float, batch_ms: float, reader_depth: int
) -> None:
    assert budgeted(expected_hz, batch_ms).reader_depth == reader_depth


@pytest.mark.parametrize(
    ("expected_hz", "batch_ms"),
    [(1000.0, None), (1000.0, 0.0), (100.0, 5.0), (None, 20.0)],
)
def test_a_stream_without_an_effective_budget_or_rate_keeps_the_qos_depth(
    expected_hz: float | None, batch_ms: float | None
) -> None:
    assert budgeted(expected_hz, batch_ms).reader_depth is None
