"""Tests for telemetry.config.shipped and the shipped config/fleet.yaml: what it holds, and where it is found.

default_fleet_config_path() looks for the file through shipped_file(); each test below fakes one
layout (checkout, ament install, pip install, nothing) by moving fleet.py's `__file__`.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from support.config_cases import SHIPPED_FLEET

import telemetry.config.fleet as fleet_module
from telemetry.codec import TypeStore
from telemetry.config import ConfigError, Priority, default_fleet_config_path, load_fleet_config

# --- the shipped file ------------------------------------------------------------------------


def test_shipped_fleet_has_two_regions_a_cloud_router_and_three_vehicles(store: TypeStore) -> None:
    config = load_fleet_config(SHIPPED_FLEET, store)
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


def test_shipped_fleet_vehicles_each_forward_imu_odom_gnss_and_battery(store: TypeStore) -> None:
    config = load_fleet_config(SHIPPED_FLEET, store)
    expected = [
        ("/imu", "sensor_msgs/msg/Imu", 1000.0),
        ("/odom", "nav_msgs/msg/Odometry", 100.0),
        ("/gnss", "sensor_msgs/msg/NavSatFix", 10.0),
        ("/battery", "sensor_msgs/msg/BatteryState", 1.0),
    ]
    for vehicle in config.vehicles:
        assert [(s.topic, s.ros_type, s.forwarded_rate_hz) for s in vehicle.streams] == expected
        assert vehicle.streams[0].priority in (Priority.REAL_TIME, Priority.DATA_HIGH)


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
    """Put a copy of fleet.yaml where an install under `prefix` keeps it."""
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
