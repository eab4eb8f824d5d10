"""config/zenoh/*.json5 agree with config/fleet.yaml, and say what the fleet relies on.

Vehicles and tools find routers through the fleet file while routers listen where their
JSON5 file says; if the two drift apart, vehicles connect to nothing.
"""

from __future__ import annotations

import json
import re

import pytest
import zenoh
from support.processes import REPO_ROOT
from support.zenoh_net import ZENOH_CONFIGS

from telemetry.config import FleetConfig, default_fleet_config_path, load_fleet_config
from telemetry.net import SessionOptions, build_config, configured_endpoints, configured_mode


@pytest.fixture(scope="module")
def fleet() -> FleetConfig:
    return load_fleet_config(default_fleet_config_path())


def shipped(name: str) -> zenoh.Config:
    """The file as Zenoh reads it, without this package's defaults: what `zenohd -c` would run."""
    return zenoh.Config.from_file(str(ZENOH_CONFIGS / f"{name}.json5"))


def value(config: zenoh.Config, key: str) -> object:
    return json.loads(config.get_json(key))


def test_cloud_config_listens_where_the_fleet_says(fleet: FleetConfig) -> None:
    config = shipped("cloud")
    assert configured_mode(config) == "router"
    assert configured_endpoints(config, "listen") == fleet.cloud.listen
    assert configured_endpoints(config, "connect") == ()


def test_every_region_of_the_fleet_has_a_router_config(fleet: FleetConfig) -> None:
    routers = {path.stem for path in ZENOH_CONFIGS.glob("*.json5")} - {"cloud", "vehicle"}
    assert routers == {region.name for region in fleet.regions}


@pytest.mark.parametrize("region", ["eu-west", "us-east"])
def test_region_config_listens_where_the_fleet_says_and_connects_to_the_cloud(
    fleet: FleetConfig, region: str
) -> None:
    config = shipped(region)
    assert configured_mode(config) == "router"
    assert configured_endpoints(config, "listen") == fleet.region(region).router.listen
    assert configured_endpoints(config, "connect") == fleet.cloud.listen


@pytest.mark.parametrize("region", ["eu-west", "us-east"])
def test_region_config_never_gives_up_on_the_cloud(region: str) -> None:
    config = shipped(region)
    assert value(config, "connect/timeout_ms") == -1
    assert value(config, "connect/exit_on_failure") is False
    assert value(config, "connect/retry") == {
        "period_init_ms": 250,
        "period_max_ms": 1000,
        "period_increase_factor": None,
    }


def test_vehicle_config_is_a_client_whose_router_comes_from_the_fleet() -> None:
    config = shipped("vehicle")
    assert configured_mode(config) == "client"
    assert configured_endpoints(config, "connect") == ()
    assert value(config, "connect/timeout_ms") == -1
    assert value(config, "connect/exit_on_failure") is False


@pytest.mark.parametrize("name", ["cloud", "eu-west", "us-east", "vehicle"])
def test_every_shipped_config_turns_multicast_scouting_off(name: str) -> None:
    assert value(shipped(name), "scouting/multicast/enabled") is False


@pytest.mark.parametrize("name", ["cloud", "eu-west", "us-east", "vehicle"])
def test_shipped_configs_load_through_build_config(name: str) -> None:
    """What our programs run (the file plus this package's defaults) keeps the file's mode,
    endpoints and scouting: the defaults fill gaps and never override what the file says."""
    built = build_config(SessionOptions(config_path=ZENOH_CONFIGS / f"{name}.json5"))
    file = shipped(name)
    assert configured_mode(built) == configured_mode(file)
    for side in ("listen", "connect"):
        assert configured_endpoints(built, side) == configured_endpoints(file, side), side
    assert value(built, "scouting/multicast/enabled") is False


def test_only_telemetry_net_configures_or_opens_zenoh_sessions() -> None:
    """DESIGN.md: Zenoh session set-up lives in telemetry/net/ only, so it is done one way."""
    pattern = re.compile(r"\bzenoh\.(open|Config)\b")
    package = REPO_ROOT / "telemetry"
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in sorted(package.rglob("*.py"))
        if "net" not in path.relative_to(package).parts[:1]
        and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
