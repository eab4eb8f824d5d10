"""Tests for telemetry.config.yaml_fields: the strict YAML loader and the typed field readers,
seen through the fleet file as a user meets them.

Every error test checks that the message names the file, the path inside it and what is wrong,
because that is what a user gets to fix it by.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.config_cases import BASE_FLEET, expect_error, load

from telemetry.codec import TypeStore
from telemetry.config import ConfigError, parse_fleet_config

# --- parsing ---------------------------------------------------------------------------------


def test_a_yaml_syntax_error_gives_its_line(tmp_path: Path, store: TypeStore) -> None:
    text = "cloud:\n  router:\n    listen: [tcp/127.0.0.1:7447\nregions: []\n"
    file = re.escape(str(tmp_path / "fleet.yaml"))
    with pytest.raises(ConfigError, match=f"^{file}: line 4: could not parse YAML: "):
        load(tmp_path, text, store)


def test_a_key_given_twice_is_a_parse_error_with_its_line(tmp_path: Path, store: TypeStore) -> None:
    text = "cloud: {}\nregions: []\ncloud: {}\n"
    file = re.escape(str(tmp_path / "fleet.yaml"))
    with pytest.raises(ConfigError, match=f"^{file}: line 3: could not parse YAML: duplicate key 'cloud'"):
        load(tmp_path, text, store)


def test_yaml_anchors_and_merge_keys_work(store: TypeStore) -> None:
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
    config = parse_fleet_config(text, "inline.yaml", store)
    assert config.region("eu-west").router.listen == ("tcp/[::1]:7448",)
    assert [s.rate_hz for v in config.vehicles for s in v.streams] == [1000.0, 500.0]


def test_a_top_level_that_is_not_a_mapping_is_rejected(tmp_path: Path, store: TypeStore) -> None:
    expect_error(tmp_path, "- rover-01\n", store, "top level", "must be a mapping, got a list")
    expect_error(tmp_path, "", store, "top level", r"must be a mapping, got null \(empty value\)")


def test_parse_names_the_given_source(store: TypeStore) -> None:
    with pytest.raises(ConfigError, match=r"^config/fleet\.yaml: top level: must be a mapping"):
        parse_fleet_config("42", "config/fleet.yaml", store)


# --- structure -------------------------------------------------------------------------------


def test_a_missing_required_field_is_named(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    del fleet["vehicles"][0]["region"]
    expect_error(tmp_path, fleet, store, "vehicles[0].region", "missing$")


def test_a_missing_top_level_section_is_named(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    del fleet["cloud"]
    expect_error(tmp_path, fleet, store, "cloud", "missing$")


def test_an_unknown_field_lists_the_expected_ones(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicles"][1]["streams"][0]["rate"] = 10
    expect_error(
        tmp_path,
        fleet,
        store,
        "vehicles[1].streams[0].rate",
        r"unknown field \(expected one of: topic, type, rate_hz, priority, max_rate_hz, batch_ms, queue_depth, "
        r"reliable\)"
        r"; did you mean 'rate_hz'\?",
    )


def test_an_unknown_top_level_field_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["vehicle"] = []
    expect_error(
        tmp_path, fleet, store, "vehicle", r"unknown field \(expected one of: cloud, regions, vehicles"
    )


def test_a_section_of_the_wrong_shape_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["regions"] = {"eu-west": {}}
    expect_error(tmp_path, fleet, store, "regions", "must be a list of regions, got a mapping")


def test_an_empty_vehicle_list_is_rejected(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"] = []
    expect_error(tmp_path, fleet, store, "vehicles", "must list at least one vehicle")


def test_an_empty_region_list_is_rejected(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["regions"] = []
    expect_error(tmp_path, fleet, store, "regions", "must list at least one region")


def test_an_empty_stream_list_is_rejected(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"] = []
    expect_error(tmp_path, fleet, store, "vehicles[0].streams", "must list at least one stream")


# --- values ----------------------------------------------------------------------------------


def test_a_non_positive_rate_is_rejected(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][2]["streams"][0]["rate_hz"] = -5
    expect_error(tmp_path, fleet, store, "vehicles[2].streams[0].rate_hz", "must be > 0, got -5$")


def test_a_rate_that_is_text_is_rejected(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["rate_hz"] = "fast"
    expect_error(tmp_path, fleet, store, "vehicles[0].streams[0].rate_hz", "must be a number, got 'fast'$")


def test_a_rate_that_yaml_reads_as_text_says_how_to_write_it(tmp_path: Path, store: TypeStore) -> None:
    text = yaml.safe_dump(BASE_FLEET, sort_keys=False).replace("rate_hz: 1000", "rate_hz: 1e3", 1)
    expect_error(
        tmp_path,
        text,
        store,
        "vehicles[0].streams[0].rate_hz",
        r"must be a number, got '1e3' \(YAML reads this as text",
    )


def test_a_boolean_is_not_a_rate(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][1]["rate_hz"] = True
    expect_error(tmp_path, fleet, store, "vehicles[0].streams[1].rate_hz", "must be a number, got true$")


def test_an_infinite_rate_is_rejected(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][1]["rate_hz"] = float("inf")
    expect_error(tmp_path, fleet, store, "vehicles[0].streams[1].rate_hz", "must be a finite number, got inf")


def test_a_batch_that_is_not_a_number_is_rejected(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["batch_ms"] = "soon"
    expect_error(tmp_path, fleet, store, "vehicles[0].streams[0].batch_ms", "must be a number, got 'soon'$")


def test_reliable_must_be_a_boolean(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["vehicles"][0]["streams"][0]["reliable"] = "yes please"
    expect_error(
        tmp_path, fleet, store, "vehicles[0].streams[0].reliable", "must be true or false, got 'yes please'"
    )
