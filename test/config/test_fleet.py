"""Tests for telemetry.config.fleet: reading config/fleet.yaml, its defaults, and every fleet-specific check.

Each test breaks one thing in its own copy of a valid fleet (the `fleet` fixture) and checks that the
message names the file, the path inside it and what is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from support.config_cases import expect_error, load

from telemetry.codec import TypeStore
from telemetry.config import ConfigError, Priority, StreamConfig, VehicleSource, load_fleet_config, rmw_zenoh_map
from telemetry.keys import KeyKind, ParsedKey, RmwStream

# --- reading the file ------------------------------------------------------------------------


def test_a_missing_file_is_named(tmp_path: Path, store: TypeStore) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=f"^{re.escape(str(missing))}: file not found$"):
        load_fleet_config(missing, store)


def test_an_unreadable_path_says_why(tmp_path: Path, store: TypeStore) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(str(tmp_path))}: cannot read file: Is a directory"):
        load_fleet_config(tmp_path, store)


# --- values and defaults ---------------------------------------------------------------------


def test_optional_stream_fields_default_to_data_priority_best_effort_no_limit_no_batch(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    stream = load(tmp_path, fleet, store).vehicle("rover-01").streams[0]
    assert stream == StreamConfig("/imu", "sensor_msgs/msg/Imu", 1000.0, Priority.DATA, None, None, False)
    assert stream.forwarded_rate_hz == 1000.0


def test_optional_stream_fields_are_read_and_max_rate_caps_the_forwarded_rate(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][0].update(
        {"priority": "real_time", "max_rate_hz": 250, "batch_ms": 2.5, "reliable": True}
    )
    stream = load(tmp_path, fleet, store).vehicle("rover-01").streams[0]
    assert (stream.priority, stream.max_rate_hz, stream.batch_ms, stream.reliable) == (
        Priority.REAL_TIME,
        250.0,
        2.5,
        True,
    )
    assert stream.forwarded_rate_hz == 250.0


def test_null_optional_fields_mean_the_default(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][0].update({"priority": None, "max_rate_hz": None})
    stream = load(tmp_path, fleet, store).vehicle("rover-01").streams[0]
    assert (stream.priority, stream.max_rate_hz) == (Priority.DATA, None)


def test_short_ros_type_names_are_normalized(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["type"] = "sensor_msgs/Imu"
    assert load(tmp_path, fleet, store).vehicle("rover-01").streams[0].ros_type == "sensor_msgs/msg/Imu"


def test_topics_are_stored_in_absolute_form(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["topic"] = "imu/data"
    assert load(tmp_path, fleet, store).vehicle("rover-01").streams[0].topic == "/imu/data"


def test_a_topic_written_with_and_without_slash_is_one_stream(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][1]["topic"] = "imu"
    expect_error(
        tmp_path,
        fleet,
        store,
        "vehicles[0].streams[1].topic",
        r"duplicate topic '/imu': same Zenoh key 'imu'",
    )


def test_key_root_defaults_to_telemetry_and_can_be_set(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    assert load(tmp_path, fleet, store).key_root == "telemetry"
    fleet["key_root"] = "acme/telemetry"
    assert load(tmp_path, fleet, store).key_root == "acme/telemetry"
    fleet["key_root"] = None
    assert load(tmp_path, fleet, store).key_root == "telemetry"


def test_default_streams_apply_to_vehicles_that_list_none_and_own_streams_override(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["defaults"] = {"streams": [{"topic": "/odom", "type": "nav_msgs/msg/Odometry", "rate_hz": 100}]}
    del fleet["vehicles"][0]["streams"]
    fleet["vehicles"][1]["streams"] = None
    config = load(tmp_path, fleet, store)
    assert [s.topic for s in config.vehicle("rover-01").streams] == ["/odom"]
    assert [s.topic for s in config.vehicle("rover-02").streams] == ["/odom"]
    assert [s.topic for s in config.vehicle("rover-03").streams] == ["/imu", "/battery"]


# --- streams ---------------------------------------------------------------------------------


def test_a_vehicle_without_streams_and_no_defaults_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    del fleet["vehicles"][2]["streams"]
    expect_error(tmp_path, fleet, store, "vehicles[2].streams", r"missing \(and no defaults\.streams")


def test_a_mistake_in_default_streams_is_reported_at_its_own_path(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["defaults"] = {"streams": [{"topic": "/odom", "type": "nav_msgs/msg/Odometry", "rate_hz": 0}]}
    expect_error(tmp_path, fleet, store, "defaults.streams[0].rate_hz", "must be > 0, got 0")


def test_an_unknown_ros_type_is_rejected(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][1]["type"] = "sensor_msgs/msg/Imuu"
    expect_error(
        tmp_path,
        fleet,
        store,
        "vehicles[0].streams[1].type",
        r"unknown ROS type 'sensor_msgs/msg/Imuu' \(no \.msg definition found\)$",
    )


@pytest.mark.parametrize("bad_type", ["Imu", "a/b/c/d"])
def test_a_ros_type_with_bad_syntax_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, bad_type: str
) -> None:
    fleet["vehicles"][0]["streams"][0]["type"] = bad_type
    expect_error(tmp_path, fleet, store, "vehicles[0].streams[0].type", f"ROS type '{bad_type}'")


def test_an_unknown_priority_lists_zenohs_priorities(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][0]["priority"] = "urgent"
    expect_error(
        tmp_path,
        fleet,
        store,
        "vehicles[0].streams[0].priority",
        r"unknown priority 'urgent' \(expected one of: real_time, interactive_high, interactive_low, "
        r"data_high, data, data_low, background\)",
    )


def test_a_max_rate_above_the_rate_is_rejected_with_the_reason(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][1]["max_rate_hz"] = 5
    expect_error(
        tmp_path,
        fleet,
        store,
        "vehicles[0].streams[1].max_rate_hz",
        r"must be <= rate_hz \(1\), got 5: the bridge can only drop samples",
    )


def test_a_batch_longer_than_a_second_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][0]["batch_ms"] = 5000
    expect_error(tmp_path, fleet, store, "vehicles[0].streams[0].batch_ms", r"must be <= 1000 .*got 5000$")


def test_a_zero_batch_means_each_sample_at_once(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["batch_ms"] = 0
    stream = load(tmp_path, fleet, store).vehicle("rover-01").streams[0]
    assert stream.batch_ms is None  # stored as "no budget", the same as leaving it out


def test_a_negative_batch_is_rejected(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["batch_ms"] = -5
    expect_error(
        tmp_path, fleet, store, "vehicles[0].streams[0].batch_ms", r"must be >= 0 \(0: each sample at once\), got -5$"
    )


@pytest.mark.parametrize("queue_depth", [1, 64, 10_000])
def test_a_queue_depth_in_range_is_read(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, queue_depth: int
) -> None:
    fleet["vehicles"][0]["streams"][0]["queue_depth"] = queue_depth
    stream = load(tmp_path, fleet, store).vehicle("rover-01").streams[0]
    assert stream.queue_depth == queue_depth


def test_a_stream_without_queue_depth_keeps_the_qos_default(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    assert load(tmp_path, fleet, store).vehicle("rover-01").streams[0].queue_depth is None


@pytest.mark.parametrize("queue_depth", [0, -1, 10_001])
def test_a_queue_depth_out_of_range_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, queue_depth: int
) -> None:
    fleet["vehicles"][0]["streams"][0]["queue_depth"] = queue_depth
    expect_error(
        tmp_path, fleet, store, "vehicles[0].streams[0].queue_depth", rf"must be in 1\.\.10000, got {queue_depth}$"
    )


@pytest.mark.parametrize(("queue_depth", "shown"), [(2.5, "2.5"), (True, "true"), ("10", "'10'")])
def test_a_queue_depth_that_is_not_an_integer_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, queue_depth: object, shown: str
) -> None:
    fleet["vehicles"][1]["streams"][1]["queue_depth"] = queue_depth
    expect_error(
        tmp_path, fleet, store, "vehicles[1].streams[1].queue_depth", f"must be an integer, got {re.escape(shown)}$"
    )


def test_a_topic_listed_twice_in_one_vehicle_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][1]["streams"][1]["topic"] = "/imu"
    expect_error(
        tmp_path,
        fleet,
        store,
        "vehicles[1].streams[1].topic",
        r"duplicate topic '/imu'.* vehicles\[1\]\.streams\[0\]",
    )


@pytest.mark.parametrize("bad_topic", ["/imu//data", "/9x", "/imu*"])
def test_a_bad_topic_name_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, bad_topic: str
) -> None:
    fleet["vehicles"][0]["streams"][0]["topic"] = bad_topic
    expect_error(tmp_path, fleet, store, "vehicles[0].streams[0].topic", f".*{re.escape(bad_topic)}")


# --- vehicles and regions --------------------------------------------------------------------


def test_a_vehicle_name_used_twice_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][2]["name"] = "rover-01"
    expect_error(
        tmp_path,
        fleet,
        store,
        "vehicles[2].name",
        r"duplicate vehicle 'rover-01' \(also at vehicles\[0\]\.name\)",
    )


def test_a_vehicle_in_an_unknown_region_lists_the_known_ones(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][1]["region"] = "eu-wst"
    expect_error(
        tmp_path, fleet, store, "vehicles[1].region", r"unknown region 'eu-wst' \(known: eu-west, us-east\)"
    )


def test_two_vehicles_with_one_ros_domain_in_a_region_are_both_named(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][1]["ros_domain_id"] = fleet["vehicles"][0]["ros_domain_id"]
    expect_error(
        tmp_path,
        fleet,
        store,
        "vehicles[1].ros_domain_id",
        r"vehicle 'rover-02' uses ROS domain 11, already used by vehicle 'rover-01' in region 'eu-west'",
    )


# --- vehicles on rmw_zenoh -------------------------------------------------------------------


def test_an_rmw_zenoh_vehicle_is_read_with_its_namespace_in_absolute_form(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0].update({"source": "rmw_zenoh", "namespace": "robot1/"})
    config = load(tmp_path, fleet, store)
    vehicle = config.vehicle("rover-01")
    assert (vehicle.source, vehicle.namespace) == (VehicleSource.RMW_ZENOH, "/robot1")
    assert (config.vehicle("rover-02").source, config.vehicle("rover-02").namespace) == (VehicleSource.BRIDGE, "/")
    assert rmw_zenoh_map(config).stream(
        "11/robot1/imu/sensor_msgs::msg::dds_::Imu_/RIHS01_7d9a00ff131080897a5ec7e26e315954b8eae3353c3f995c55faf71574000b5b"
    ) == RmwStream(ParsedKey(KeyKind.DATA, "eu-west", "rover-01", "/imu"), "sensor_msgs/msg/Imu")


def test_two_rmw_zenoh_vehicles_on_one_domain_and_namespace_are_both_named(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0].update({"source": "rmw_zenoh", "namespace": "/robot1"})
    fleet["vehicles"][2].update({"source": "rmw_zenoh", "namespace": "/robot1",
                                 "ros_domain_id": fleet["vehicles"][0]["ros_domain_id"]})
    expect_error(
        tmp_path, fleet, store, "vehicles[2].namespace",
        r"rmw_zenoh vehicles 'rover-01' and 'rover-03' both use ROS domain 11 and namespace '/robot1'; "
        r"their keys would be the same",
    )


def test_rmw_zenoh_vehicles_on_one_domain_with_their_own_namespaces_are_fine(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0].update({"source": "rmw_zenoh", "namespace": "/robot1"})
    fleet["vehicles"][1].update({"source": "rmw_zenoh", "namespace": "/robot2",
                                 "ros_domain_id": fleet["vehicles"][0]["ros_domain_id"]})
    assert load(tmp_path, fleet, store).vehicle("rover-02").namespace == "/robot2"


def test_an_unknown_source_and_a_namespace_on_a_bridged_vehicle_are_errors(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0]["source"] = "dds"
    expect_error(tmp_path, fleet, store, "vehicles[0].source", r"unknown source 'dds' \(known: bridge, rmw_zenoh\)")
    fleet["vehicles"][0]["source"] = "bridge"
    fleet["vehicles"][0]["namespace"] = "/robot1"
    expect_error(tmp_path, fleet, store, "vehicles[0].namespace", r"only for `source: rmw_zenoh`")
    fleet["vehicles"][0].update({"source": "rmw_zenoh", "namespace": "/robot 1"})
    expect_error(tmp_path, fleet, store, "vehicles[0].namespace", r"namespace '/robot 1': chunk 'robot 1' may contain")


def test_vehicles_in_different_regions_may_share_a_ros_domain(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][2]["ros_domain_id"] = fleet["vehicles"][0]["ros_domain_id"]
    assert load(tmp_path, fleet, store).vehicle("rover-03").ros_domain_id == 11


@pytest.mark.parametrize("domain_id", [-1, 233])
def test_a_ros_domain_outside_0_to_232_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, domain_id: int
) -> None:
    fleet["vehicles"][0]["ros_domain_id"] = domain_id
    expect_error(
        tmp_path,
        fleet,
        store,
        "vehicles[0].ros_domain_id",
        rf"must be in 0\.\.232 \(ROS 2 .*\), got {domain_id}$",
    )


def test_a_ros_domain_must_be_an_integer(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["ros_domain_id"] = 1.5
    expect_error(tmp_path, fleet, store, "vehicles[0].ros_domain_id", "must be an integer, got 1.5$")


def test_a_region_name_used_twice_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["regions"][1]["name"] = "eu-west"
    expect_error(
        tmp_path,
        fleet,
        store,
        "regions[1].name",
        r"duplicate region 'eu-west' \(also at regions\[0\]\.name\)",
    )


def test_a_region_name_with_a_wildcard_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["regions"][0]["name"] = "eu*west"
    expect_error(tmp_path, fleet, store, "regions[0].name", r"region 'eu\*west': .*'\*'")


def test_a_vehicle_name_with_a_bad_key_character_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][0]["name"] = "rover$1"
    expect_error(tmp_path, fleet, store, "vehicles[0].name", r"vehicle 'rover\$1': .*'\$'")


def test_a_key_root_with_a_wildcard_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["key_root"] = "fleet/**"
    expect_error(tmp_path, fleet, store, "key_root", r"root 'fleet/\*\*': .*must not contain '\*'")


# --- router endpoints ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [
        ("http/127.0.0.1:7447", "expected <protocol>/<address> with protocol one of tcp, udp"),
        ("127.0.0.1:7447", "expected <protocol>/<address>"),
        ("tcp/127.0.0.1", r"address must be <host>:<port> \(IPv6 as \[::1\]:7447\)"),
        ("tcp/127.0.0.1:70000", r"port must be in 1\.\.65535, got 70000"),
        ("tcp/127.0.0.1:0", r"port must be in 1\.\.65535, got 0"),
        ("unixsock-stream/", "missing the socket path"),
    ],
)
def test_a_malformed_router_endpoint_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, endpoint: str, words: str
) -> None:
    fleet["cloud"]["router"]["listen"] = [endpoint]
    expect_error(
        tmp_path, fleet, store, "cloud.router.listen[0]", f"endpoint {re.escape(repr(endpoint))}: {words}"
    )


def test_router_endpoints_accept_every_zenoh_protocol_and_ipv6(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    endpoints = [
        "udp/0.0.0.0:7450",
        "tls/localhost:7451",
        "quic/[::1]:7452",
        "ws/[::]:7453#iface=lo",
        "unixsock-stream//tmp/zenoh.sock",
    ]
    fleet["cloud"]["router"]["listen"] = endpoints
    assert load(tmp_path, fleet, store).cloud.listen == tuple(endpoints)


def test_two_routers_listening_on_one_endpoint_are_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["regions"][1]["router"]["listen"] = ["tcp/127.0.0.1:7447"]
    expect_error(
        tmp_path,
        fleet,
        store,
        "regions[1].router.listen[0]",
        r"duplicate endpoint 'tcp/127.0.0.1:7447' \(also at cloud\.router\.listen\[0\]\)",
    )
