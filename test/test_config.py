"""Tests for telemetry.config: the shipped fleet file, defaults, and every user-facing error.

Every error test writes a file under tmp_path and checks that the message names that file,
the path inside it and what is wrong, because that is what a user gets to fix it by.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import telemetry.config.fleet as fleet_module
from telemetry.codec import TypeStore
from telemetry.config import (
    FleetConfig,
    Priority,
    StreamConfig,
    default_fleet_config_path,
    load_fleet_config,
    parse_fleet_config,
)
from telemetry.errors import ConfigError

SHIPPED_FLEET = Path(__file__).resolve().parents[1] / "config" / "fleet.yaml"

_BASE_FLEET: dict[str, Any] = {
    "cloud": {"router": {"listen": ["tcp/127.0.0.1:7447"]}},
    "regions": [
        {"name": "eu-west", "router": {"listen": ["tcp/127.0.0.1:7448"]}},
        {"name": "us-east", "router": {"listen": ["tcp/127.0.0.1:7449"]}},
    ],
    "vehicles": [
        {
            "name": f"rover-0{number}",
            "region": region,
            "ros_domain_id": 10 + number,
            "streams": [
                {"topic": "/imu", "type": "sensor_msgs/msg/Imu", "rate_hz": 1000},
                {"topic": "/battery", "type": "sensor_msgs/msg/BatteryState", "rate_hz": 1},
            ],
        }
        for number, region in ((1, "eu-west"), (2, "eu-west"), (3, "us-east"))
    ],
}


@pytest.fixture(scope="module")
def types() -> TypeStore:
    """The real ROS message definitions: config checks stream types against them."""
    return TypeStore.from_environment()


@pytest.fixture
def fleet() -> dict[str, Any]:
    """A valid fleet as plain data: each test breaks one thing in its own copy."""
    return copy.deepcopy(_BASE_FLEET)


def write(tmp_path: Path, content: dict[str, Any] | str) -> Path:
    path = tmp_path / "fleet.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, content: dict[str, Any] | str, types: TypeStore) -> FleetConfig:
    return load_fleet_config(write(tmp_path, content), types)


def expect_error(
    tmp_path: Path, content: dict[str, Any] | str, types: TypeStore, where: str, words: str
) -> None:
    """Loading fails with `<file>: <where>: <words>`; `where` is literal, `words` a regex."""
    file = re.escape(str(tmp_path / "fleet.yaml"))
    with pytest.raises(ConfigError, match=f"^{file}: {re.escape(where)}: {words}"):
        load(tmp_path, content, types)


# --- the shipped file ------------------------------------------------------------------------


def test_shipped_fleet_has_two_regions_a_cloud_router_and_three_vehicles(types: TypeStore) -> None:
    config = load_fleet_config(SHIPPED_FLEET, types)
    assert config.key_root == "telemetry"
    assert config.cloud.listen == ("tcp/127.0.0.1:7447",)
    assert [(r.name, r.router.listen) for r in config.regions] == [
        ("eu-west", ("tcp/127.0.0.1:7448",)),
        ("us-east", ("tcp/127.0.0.1:7449",)),
    ]
    assert [(v.name, v.region) for v in config.vehicles] == [
        ("rover-01", "eu-west"),
        ("rover-02", "eu-west"),
        ("rover-03", "us-east"),
    ]
    assert len({v.ros_domain_id for v in config.vehicles}) == 3


def test_shipped_fleet_vehicles_each_forward_imu_odom_gnss_and_battery(types: TypeStore) -> None:
    config = load_fleet_config(SHIPPED_FLEET, types)
    expected = [
        ("/imu", "sensor_msgs/msg/Imu", 1000.0),
        ("/odom", "nav_msgs/msg/Odometry", 100.0),
        ("/gnss", "sensor_msgs/msg/NavSatFix", 10.0),
        ("/battery", "sensor_msgs/msg/BatteryState", 1.0),
    ]
    for vehicle in config.vehicles:
        assert [(s.topic, s.ros_type, s.forwarded_rate_hz) for s in vehicle.streams] == expected
        assert vehicle.streams[0].priority in (Priority.REAL_TIME, Priority.DATA_HIGH)


def test_shipped_fleet_lookups_find_regions_and_vehicles_by_name(types: TypeStore) -> None:
    config = load_fleet_config(SHIPPED_FLEET, types)
    assert config.region("us-east").router.listen == ("tcp/127.0.0.1:7449",)
    assert config.vehicle("rover-02").region == "eu-west"
    assert [v.name for v in config.vehicles_in("eu-west")] == ["rover-01", "rover-02"]


def test_lookup_of_an_unknown_vehicle_lists_the_known_ones(types: TypeStore) -> None:
    config = load_fleet_config(SHIPPED_FLEET, types)
    with pytest.raises(
        ConfigError, match=r"fleet\.yaml: no vehicle 'rover-09' \(known: rover-01, rover-02, rover-03\)"
    ):
        config.vehicle("rover-09")
    with pytest.raises(ConfigError, match=r"no region 'mars' \(known: eu-west, us-east\)"):
        config.vehicles_in("mars")


def test_load_uses_the_environment_type_store_when_none_is_given() -> None:
    assert load_fleet_config(SHIPPED_FLEET).vehicle("rover-01").streams[0].ros_type == "sensor_msgs/msg/Imu"


# --- finding the shipped file ----------------------------------------------------------------


def run_from(
    monkeypatch: pytest.MonkeyPatch, module_file: Path, ament_prefixes: list[Path], sys_prefix: Path
) -> None:
    """Make default_fleet_config_path() believe fleet.py lives at `module_file`, in that environment."""
    monkeypatch.setattr(fleet_module, "__file__", str(module_file))
    monkeypatch.setenv("AMENT_PREFIX_PATH", os.pathsep.join(str(prefix) for prefix in ament_prefixes))
    monkeypatch.setattr(sys, "prefix", str(sys_prefix))


def install_fleet(prefix: Path) -> Path:
    path = prefix / "share" / "telemetry" / "config" / "fleet.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("# installed copy\n", encoding="utf-8")
    return path


def test_default_fleet_config_path_is_the_shipped_file_of_this_checkout() -> None:
    assert default_fleet_config_path() == SHIPPED_FLEET


def test_default_fleet_config_path_prefers_the_checkout_over_an_installed_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fleet(tmp_path / "install")
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path / "install"))
    assert default_fleet_config_path() == SHIPPED_FLEET


def test_default_fleet_config_path_outside_a_checkout_finds_the_copy_under_ament_prefix_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = tmp_path / "install" / "telemetry"
    installed = install_fleet(prefix)
    module_file = prefix / "lib" / "site-packages" / "telemetry" / "config" / "fleet.py"
    run_from(monkeypatch, module_file, [tmp_path / "opt" / "ros", prefix], tmp_path / "venv")
    assert default_fleet_config_path() == installed


def test_default_fleet_config_path_falls_back_to_the_python_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "venv"
    installed = install_fleet(venv)
    run_from(monkeypatch, venv / "lib" / "site-packages" / "telemetry" / "config" / "fleet.py", [], venv)
    assert default_fleet_config_path() == installed


def test_default_fleet_config_path_lists_every_place_searched_when_none_has_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "package.xml").write_text("<package/>\n", encoding="utf-8")
    module_file = checkout / "telemetry" / "config" / "fleet.py"
    run_from(monkeypatch, module_file, [tmp_path / "ros"], tmp_path / "venv")
    searched = [
        checkout / "config" / "fleet.yaml",
        tmp_path / "ros" / "share" / "telemetry" / "config" / "fleet.yaml",
        tmp_path / "venv" / "share" / "telemetry" / "config" / "fleet.yaml",
    ]
    places = re.escape(", ".join(str(path) for path in searched))
    with pytest.raises(
        ConfigError, match=rf"^config/fleet\.yaml: shipped fleet config not found \(searched: {places}\)$"
    ):
        default_fleet_config_path()


# --- values and defaults ---------------------------------------------------------------------


def test_optional_stream_fields_default_to_data_priority_best_effort_no_limit_no_batch(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    stream = load(tmp_path, fleet, types).vehicle("rover-01").streams[0]
    assert stream == StreamConfig("/imu", "sensor_msgs/msg/Imu", 1000.0, Priority.DATA, None, None, False)
    assert stream.forwarded_rate_hz == 1000.0


def test_optional_stream_fields_are_read_and_max_rate_caps_the_forwarded_rate(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][0].update(
        {"priority": "real_time", "max_rate_hz": 250, "batch_ms": 2.5, "reliable": True}
    )
    stream = load(tmp_path, fleet, types).vehicle("rover-01").streams[0]
    assert (stream.priority, stream.max_rate_hz, stream.batch_ms, stream.reliable) == (
        Priority.REAL_TIME,
        250.0,
        2.5,
        True,
    )
    assert stream.forwarded_rate_hz == 250.0


def test_null_optional_fields_mean_the_default(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][0].update({"priority": None, "max_rate_hz": None})
    stream = load(tmp_path, fleet, types).vehicle("rover-01").streams[0]
    assert (stream.priority, stream.max_rate_hz) == (Priority.DATA, None)


def test_short_ros_type_names_are_normalized(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["type"] = "sensor_msgs/Imu"
    assert load(tmp_path, fleet, types).vehicle("rover-01").streams[0].ros_type == "sensor_msgs/msg/Imu"


def test_topics_are_stored_in_absolute_form(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["topic"] = "imu/data"
    assert load(tmp_path, fleet, types).vehicle("rover-01").streams[0].topic == "/imu/data"


def test_a_topic_written_with_and_without_slash_is_one_stream(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][1]["topic"] = "imu"
    expect_error(
        tmp_path,
        fleet,
        types,
        "vehicles[0].streams[1].topic",
        r"duplicate topic '/imu': same Zenoh key 'imu'",
    )


def test_key_root_defaults_to_telemetry_and_can_be_set(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    assert load(tmp_path, fleet, types).key_root == "telemetry"
    fleet["key_root"] = "acme/telemetry"
    assert load(tmp_path, fleet, types).key_root == "acme/telemetry"
    fleet["key_root"] = None
    assert load(tmp_path, fleet, types).key_root == "telemetry"


def test_default_streams_apply_to_vehicles_that_list_none_and_own_streams_override(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["defaults"] = {"streams": [{"topic": "/odom", "type": "nav_msgs/msg/Odometry", "rate_hz": 100}]}
    del fleet["vehicles"][0]["streams"]
    fleet["vehicles"][1]["streams"] = None
    config = load(tmp_path, fleet, types)
    assert [s.topic for s in config.vehicle("rover-01").streams] == ["/odom"]
    assert [s.topic for s in config.vehicle("rover-02").streams] == ["/odom"]
    assert [s.topic for s in config.vehicle("rover-03").streams] == ["/imu", "/battery"]


def test_yaml_anchors_and_merge_keys_work(types: TypeStore) -> None:
    text = """
cloud: {router: {listen: ["tcp/127.0.0.1:7447"]}}
regions: [{name: eu-west, router: {listen: ["tcp/[::1]:7448"]}}]
vehicles:
  - name: rover-01
    region: eu-west
    ros_domain_id: 1
    streams: &standard
      - &imu {topic: /imu, type: sensor_msgs/msg/Imu, rate_hz: 1000}
  - name: rover-02
    region: eu-west
    ros_domain_id: 2
    streams:
      - {<<: *imu, rate_hz: 500}
"""
    config = parse_fleet_config(text, "inline.yaml", types)
    assert config.region("eu-west").router.listen == ("tcp/[::1]:7448",)
    assert [s.rate_hz for v in config.vehicles for s in v.streams] == [1000.0, 500.0]


# --- reading the file ------------------------------------------------------------------------


def test_a_missing_file_is_named(tmp_path: Path, types: TypeStore) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=f"^{re.escape(str(missing))}: file not found$"):
        load_fleet_config(missing, types)


def test_an_unreadable_path_says_why(tmp_path: Path, types: TypeStore) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(str(tmp_path))}: cannot read file: Is a directory"):
        load_fleet_config(tmp_path, types)


def test_a_yaml_syntax_error_gives_its_line(tmp_path: Path, types: TypeStore) -> None:
    text = "cloud:\n  router:\n    listen: [tcp/127.0.0.1:7447\nregions: []\n"
    file = re.escape(str(tmp_path / "fleet.yaml"))
    with pytest.raises(ConfigError, match=f"^{file}: line 4: could not parse YAML: "):
        load(tmp_path, text, types)


def test_a_key_given_twice_is_a_parse_error_with_its_line(tmp_path: Path, types: TypeStore) -> None:
    text = "cloud: {}\nregions: []\ncloud: {}\n"
    file = re.escape(str(tmp_path / "fleet.yaml"))
    with pytest.raises(ConfigError, match=f"^{file}: line 3: could not parse YAML: duplicate key 'cloud'"):
        load(tmp_path, text, types)


def test_a_top_level_that_is_not_a_mapping_is_rejected(tmp_path: Path, types: TypeStore) -> None:
    expect_error(tmp_path, "- rover-01\n", types, "top level", "must be a mapping, got a list")
    expect_error(tmp_path, "", types, "top level", r"must be a mapping, got null \(empty value\)")


def test_parse_names_the_given_source(types: TypeStore) -> None:
    with pytest.raises(ConfigError, match=r"^config/fleet\.yaml: top level: must be a mapping"):
        parse_fleet_config("42", "config/fleet.yaml", types)


# --- structure -------------------------------------------------------------------------------


def test_a_missing_required_field_is_named(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    del fleet["vehicles"][0]["region"]
    expect_error(tmp_path, fleet, types, "vehicles[0].region", "missing$")


def test_a_missing_top_level_section_is_named(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    del fleet["cloud"]
    expect_error(tmp_path, fleet, types, "cloud", "missing$")


def test_an_unknown_field_lists_the_expected_ones(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][1]["streams"][0]["rate"] = 10
    expect_error(
        tmp_path,
        fleet,
        types,
        "vehicles[1].streams[0].rate",
        r"unknown field \(expected one of: topic, type, rate_hz, priority, max_rate_hz, batch_ms, queue_depth, "
        r"reliable\)"
        r"; did you mean 'rate_hz'\?",
    )


def test_an_unknown_top_level_field_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicle"] = []
    expect_error(
        tmp_path, fleet, types, "vehicle", r"unknown field \(expected one of: cloud, regions, vehicles"
    )


def test_a_section_of_the_wrong_shape_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["regions"] = {"eu-west": {}}
    expect_error(tmp_path, fleet, types, "regions", "must be a list of regions, got a mapping")


def test_an_empty_vehicle_list_is_rejected(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"] = []
    expect_error(tmp_path, fleet, types, "vehicles", "must list at least one vehicle")


def test_an_empty_region_list_is_rejected(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["regions"] = []
    expect_error(tmp_path, fleet, types, "regions", "must list at least one region")


def test_a_vehicle_without_streams_and_no_defaults_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    del fleet["vehicles"][2]["streams"]
    expect_error(tmp_path, fleet, types, "vehicles[2].streams", r"missing \(and no defaults\.streams")


def test_an_empty_stream_list_is_rejected(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"] = []
    expect_error(tmp_path, fleet, types, "vehicles[0].streams", "must list at least one stream")


def test_a_mistake_in_default_streams_is_reported_at_its_own_path(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["defaults"] = {"streams": [{"topic": "/odom", "type": "nav_msgs/msg/Odometry", "rate_hz": 0}]}
    expect_error(tmp_path, fleet, types, "defaults.streams[0].rate_hz", "must be > 0, got 0")


# --- stream values ---------------------------------------------------------------------------


def test_a_non_positive_rate_is_rejected(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][2]["streams"][0]["rate_hz"] = -5
    expect_error(tmp_path, fleet, types, "vehicles[2].streams[0].rate_hz", "must be > 0, got -5$")


def test_a_rate_that_is_text_is_rejected(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["rate_hz"] = "fast"
    expect_error(tmp_path, fleet, types, "vehicles[0].streams[0].rate_hz", "must be a number, got 'fast'$")


def test_a_rate_that_yaml_reads_as_text_says_how_to_write_it(tmp_path: Path, types: TypeStore) -> None:
    text = yaml.safe_dump(_BASE_FLEET, sort_keys=False).replace("rate_hz: 1000", "rate_hz: 1e3", 1)
    expect_error(
        tmp_path,
        text,
        types,
        "vehicles[0].streams[0].rate_hz",
        r"must be a number, got '1e3' \(YAML reads this as text",
    )


def test_a_boolean_is_not_a_rate(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][1]["rate_hz"] = True
    expect_error(tmp_path, fleet, types, "vehicles[0].streams[1].rate_hz", "must be a number, got true$")


def test_an_infinite_rate_is_rejected(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][1]["rate_hz"] = float("inf")
    expect_error(tmp_path, fleet, types, "vehicles[0].streams[1].rate_hz", "must be a finite number, got inf")


def test_an_unknown_ros_type_is_rejected(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][1]["type"] = "sensor_msgs/msg/Imuu"
    expect_error(
        tmp_path,
        fleet,
        types,
        "vehicles[0].streams[1].type",
        r"unknown ROS type 'sensor_msgs/msg/Imuu' \(no \.msg definition found\)$",
    )


@pytest.mark.parametrize("bad_type", ["Imu", "a/b/c/d"])
def test_a_ros_type_with_bad_syntax_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore, bad_type: str
) -> None:
    fleet["vehicles"][0]["streams"][0]["type"] = bad_type
    expect_error(tmp_path, fleet, types, "vehicles[0].streams[0].type", f"ROS type '{bad_type}'")


def test_an_unknown_priority_lists_zenohs_priorities(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][0]["priority"] = "urgent"
    expect_error(
        tmp_path,
        fleet,
        types,
        "vehicles[0].streams[0].priority",
        r"unknown priority 'urgent' \(expected one of: real_time, interactive_high, interactive_low, "
        r"data_high, data, data_low, background\)",
    )


def test_a_max_rate_above_the_rate_is_rejected_with_the_reason(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][1]["max_rate_hz"] = 5
    expect_error(
        tmp_path,
        fleet,
        types,
        "vehicles[0].streams[1].max_rate_hz",
        r"must be <= rate_hz \(1\), got 5: the bridge can only drop samples",
    )


def test_a_batch_longer_than_a_second_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][0]["streams"][0]["batch_ms"] = 5000
    expect_error(tmp_path, fleet, types, "vehicles[0].streams[0].batch_ms", r"must be <= 1000 .*got 5000$")


def test_a_zero_batch_means_each_sample_at_once(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["batch_ms"] = 0
    stream = load(tmp_path, fleet, types).vehicle("rover-01").streams[0]
    assert stream.batch_ms is None  # stored as "no budget", the same as leaving it out


def test_a_negative_batch_is_rejected(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["batch_ms"] = -5
    expect_error(
        tmp_path, fleet, types, "vehicles[0].streams[0].batch_ms", r"must be >= 0 \(0: each sample at once\), got -5$"
    )


def test_a_batch_that_is_not_a_number_is_rejected(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["batch_ms"] = "soon"
    expect_error(tmp_path, fleet, types, "vehicles[0].streams[0].batch_ms", "must be a number, got 'soon'$")


@pytest.mark.parametrize("queue_depth", [1, 64, 10_000])
def test_a_queue_depth_in_range_is_read(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore, queue_depth: int
) -> None:
    fleet["vehicles"][0]["streams"][0]["queue_depth"] = queue_depth
    stream = load(tmp_path, fleet, types).vehicle("rover-01").streams[0]
    assert stream.queue_depth == queue_depth


def test_a_stream_without_queue_depth_keeps_the_qos_default(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    assert load(tmp_path, fleet, types).vehicle("rover-01").streams[0].queue_depth is None


@pytest.mark.parametrize("queue_depth", [0, -1, 10_001])
def test_a_queue_depth_out_of_range_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore, queue_depth: int
) -> None:
    fleet["vehicles"][0]["streams"][0]["queue_depth"] = queue_depth
    expect_error(
        tmp_path, fleet, types, "vehicles[0].streams[0].queue_depth", rf"must be in 1\.\.10000, got {queue_depth}$"
    )


@pytest.mark.parametrize(("queue_depth", "shown"), [(2.5, "2.5"), (True, "true"), ("10", "'10'")])
def test_a_queue_depth_that_is_not_an_integer_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore, queue_depth: object, shown: str
) -> None:
    fleet["vehicles"][1]["streams"][1]["queue_depth"] = queue_depth
    expect_error(
        tmp_path, fleet, types, "vehicles[1].streams[1].queue_depth", f"must be an integer, got {re.escape(shown)}$"
    )


def test_reliable_must_be_a_boolean(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["reliable"] = "yes please"
    expect_error(
        tmp_path, fleet, types, "vehicles[0].streams[0].reliable", "must be true or false, got 'yes please'"
    )


def test_a_topic_listed_twice_in_one_vehicle_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][1]["streams"][1]["topic"] = "/imu"
    expect_error(
        tmp_path,
        fleet,
        types,
        "vehicles[1].streams[1].topic",
        r"duplicate topic '/imu'.* vehicles\[1\]\.streams\[0\]",
    )


@pytest.mark.parametrize("bad_topic", ["/imu//data", "/9x", "/imu*"])
def test_a_bad_topic_name_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore, bad_topic: str
) -> None:
    fleet["vehicles"][0]["streams"][0]["topic"] = bad_topic
    expect_error(tmp_path, fleet, types, "vehicles[0].streams[0].topic", f".*{re.escape(bad_topic)}")


# --- vehicles and regions --------------------------------------------------------------------


def test_a_vehicle_name_used_twice_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][2]["name"] = "rover-01"
    expect_error(
        tmp_path,
        fleet,
        types,
        "vehicles[2].name",
        r"duplicate vehicle 'rover-01' \(also at vehicles\[0\]\.name\)",
    )


def test_a_vehicle_in_an_unknown_region_lists_the_known_ones(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][1]["region"] = "eu-wst"
    expect_error(
        tmp_path, fleet, types, "vehicles[1].region", r"unknown region 'eu-wst' \(known: eu-west, us-east\)"
    )


def test_two_vehicles_with_one_ros_domain_in_a_region_are_both_named(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][1]["ros_domain_id"] = fleet["vehicles"][0]["ros_domain_id"]
    expect_error(
        tmp_path,
        fleet,
        types,
        "vehicles[1].ros_domain_id",
        r"vehicle 'rover-02' uses ROS domain 11, already used by vehicle 'rover-01' in region 'eu-west'",
    )


def test_vehicles_in_different_regions_may_share_a_ros_domain(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][2]["ros_domain_id"] = fleet["vehicles"][0]["ros_domain_id"]
    assert load(tmp_path, fleet, types).vehicle("rover-03").ros_domain_id == 11


@pytest.mark.parametrize("domain_id", [-1, 233])
def test_a_ros_domain_outside_0_to_232_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore, domain_id: int
) -> None:
    fleet["vehicles"][0]["ros_domain_id"] = domain_id
    expect_error(
        tmp_path,
        fleet,
        types,
        "vehicles[0].ros_domain_id",
        rf"must be in 0\.\.232 \(ROS 2 .*\), got {domain_id}$",
    )


def test_a_ros_domain_must_be_an_integer(tmp_path: Path, fleet: dict[str, Any], types: TypeStore) -> None:
    fleet["vehicles"][0]["ros_domain_id"] = 1.5
    expect_error(tmp_path, fleet, types, "vehicles[0].ros_domain_id", "must be an integer, got 1.5$")


def test_a_region_name_used_twice_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["regions"][1]["name"] = "eu-west"
    expect_error(
        tmp_path,
        fleet,
        types,
        "regions[1].name",
        r"duplicate region 'eu-west' \(also at regions\[0\]\.name\)",
    )


def test_a_region_name_with_a_wildcard_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["regions"][0]["name"] = "eu*west"
    expect_error(tmp_path, fleet, types, "regions[0].name", r"region 'eu\*west': .*'\*'")


def test_a_vehicle_name_with_a_bad_key_character_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["vehicles"][0]["name"] = "rover$1"
    expect_error(tmp_path, fleet, types, "vehicles[0].name", r"vehicle 'rover\$1': .*'\$'")


def test_a_key_root_with_a_wildcard_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["key_root"] = "fleet/**"
    expect_error(tmp_path, fleet, types, "key_root", r"root 'fleet/\*\*': .*must not contain '\*'")


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
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore, endpoint: str, words: str
) -> None:
    fleet["cloud"]["router"]["listen"] = [endpoint]
    expect_error(
        tmp_path, fleet, types, "cloud.router.listen[0]", f"endpoint {re.escape(repr(endpoint))}: {words}"
    )


def test_router_endpoints_accept_every_zenoh_protocol_and_ipv6(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    endpoints = [
        "udp/0.0.0.0:7450",
        "tls/localhost:7451",
        "quic/[::1]:7452",
        "ws/[::]:7453#iface=lo",
        "unixsock-stream//tmp/zenoh.sock",
    ]
    fleet["cloud"]["router"]["listen"] = endpoints
    assert load(tmp_path, fleet, types).cloud.listen == tuple(endpoints)


def test_two_routers_listening_on_one_endpoint_are_rejected(
    tmp_path: Path, fleet: dict[str, Any], types: TypeStore
) -> None:
    fleet["regions"][1]["router"]["listen"] = ["tcp/127.0.0.1:7447"]
    expect_error(
        tmp_path,
        fleet,
        types,
        "regions[1].router.listen[0]",
        r"duplicate endpoint 'tcp/127.0.0.1:7447' \(also at cloud\.router\.listen\[0\]\)",
    )
