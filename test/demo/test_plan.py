"""The demo's process plan: which processes a fleet needs, in start order, with which arguments.

The plan is pure data, so these tests check it against what the processes themselves accept:
setup.py's console scripts, the router's session flags, the bridge's and sensor_sim's parsers.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from support.processes import REPO_ROOT

from telemetry.codec import TypeStore
from telemetry.config import (
    FleetConfig,
    RegionConfig,
    RouterConfig,
    StreamConfig,
    VehicleConfig,
    default_fleet_config_path,
)
from telemetry.demo.plan import (
    Part,
    PartKind,
    aggregator_part,
    fleet_parts,
    recorder_part,
    router_parts,
    vehicle_parts,
    zenoh_config_file,
)
from telemetry.errors import ConfigError

#: The plan never opens the config; any path shows where it lands in the arguments.
CONFIG_PATH = Path("/runs/demo/fleet.yaml")
CLOUD_JSON5 = REPO_ROOT / "config" / "zenoh" / "cloud.json5"
EU_WEST_JSON5 = REPO_ROOT / "config" / "zenoh" / "eu-west.json5"
US_EAST_JSON5 = REPO_ROOT / "config" / "zenoh" / "us-east.json5"

_IMU = StreamConfig("/imu", "sensor_msgs/msg/Imu", 1000.0)


def _fleet_with_unshipped_region() -> FleetConfig:
    """eu-west has a shipped config/zenoh/eu-west.json5; ap-south has none. Two cloud endpoints."""
    return FleetConfig(
        source="hand-made.yaml",
        key_root="telemetry",
        cloud=RouterConfig(("tcp/127.0.0.1:17447", "tcp/[::1]:17447")),
        regions=(
            RegionConfig("eu-west", RouterConfig(("tcp/127.0.0.1:17448",))),
            RegionConfig("ap-south", RouterConfig(("tcp/127.0.0.1:17450", "ws/127.0.0.1:17451"))),
        ),
        vehicles=(VehicleConfig("scout-7", "ap-south", 42, (_IMU,)),),
    )


def _console_scripts() -> dict[str, str]:
    """setup.py's console_scripts as {script: module}, read from its text (never executed)."""
    text = (REPO_ROOT / "setup.py").read_text(encoding="utf-8")
    scripts = dict(re.findall(r"[\"']\s*([\w-]+)\s*=\s*([\w.]+):main\s*[\"']", text))
    assert scripts, "no `name = module:main` console scripts found in setup.py"
    return scripts


# --- start order -------------------------------------------------------------------------------


def test_the_shipped_fleet_starts_cloud_then_regions_then_aggregator_and_recorder_then_each_vehicle(
    shipped: FleetConfig,
) -> None:
    parts = fleet_parts(shipped, CONFIG_PATH)

    assert [part.name for part in parts] == [
        "cloud router",
        "eu-west router",
        "us-east router",
        "aggregator",
        "recorder",
        "rover-01 sensor_sim",
        "rover-01 zenoh_bridge",
        "rover-02 sensor_sim",
        "rover-02 zenoh_bridge",
        "rover-03 sensor_sim",
        "rover-03 zenoh_bridge",
    ]
    assert [part.kind for part in parts] == [
        PartKind.ROUTER, PartKind.ROUTER, PartKind.ROUTER, PartKind.AGGREGATOR, PartKind.RECORDER,
        *[PartKind.SENSOR_SIM, PartKind.BRIDGE] * 3,
    ]


def test_fleet_parts_is_routers_then_aggregator_then_vehicle_parts_in_config_order(shipped: FleetConfig) -> None:
    expected = [
        *router_parts(shipped),
        aggregator_part(shipped, CONFIG_PATH),
        recorder_part(shipped, CONFIG_PATH),
        *[part for vehicle in shipped.vehicles for part in vehicle_parts(vehicle, CONFIG_PATH)],
    ]
    assert fleet_parts(shipped, CONFIG_PATH) == expected


def test_only_vehicle_parts_name_a_vehicle(shipped: FleetConfig) -> None:
    vehicles = [(part.name, part.vehicle) for part in fleet_parts(shipped, CONFIG_PATH)]
    assert vehicles[:5] == [("cloud router", None), ("eu-west router", None), ("us-east router", None),
                            ("aggregator", None), ("recorder", None)]
    assert vehicles[5:7] == [("rover-01 sensor_sim", "rover-01"), ("rover-01 zenoh_bridge", "rover-01")]


# --- routers -----------------------------------------------------------------------------------


def test_the_cloud_router_uses_its_shipped_config_listens_on_the_cloud_endpoint_and_connects_nowhere(
    shipped: FleetConfig,
) -> None:
    cloud = router_parts(shipped)[0]
    assert cloud == Part("cloud router", PartKind.ROUTER, ("-c", str(CLOUD_JSON5), "-l", "tcp/127.0.0.1:7447"))


def test_each_region_router_listens_on_its_endpoint_and_connects_to_the_cloud(shipped: FleetConfig) -> None:
    eu_west, us_east = router_parts(shipped)[1:]

    assert eu_west.args == ("-c", str(EU_WEST_JSON5), "-l", "tcp/127.0.0.1:7448", "-e", "tcp/127.0.0.1:7447")
    assert us_east.args == ("-c", str(US_EAST_JSON5), "-l", "tcp/127.0.0.1:7449", "-e", "tcp/127.0.0.1:7447")


def test_a_region_without_a_shipped_zenoh_config_turns_multicast_scouting_off_instead_of_c() -> None:
    ap_south = router_parts(_fleet_with_unshipped_region())[2]

    assert ap_south.name == "ap-south router"
    assert ap_south.args == (
        "--cfg", "scouting/multicast/enabled:false",
        "-l", "tcp/127.0.0.1:17450", "-l", "ws/127.0.0.1:17451",
        "-e", "tcp/127.0.0.1:17447", "-e", "tcp/[::1]:17447",
    )
    assert "-c" not in ap_south.args


def test_every_router_argument_list_parses_into_the_session_the_fleet_config_describes() -> None:
    from telemetry.net.router import build_parser
    from telemetry.net.session_flags import options_from_args

    fleet = _fleet_with_unshipped_region()
    cloud, eu_west, ap_south = (options_from_args(build_parser().parse_args(p.args)) for p in router_parts(fleet))

    assert (cloud.config_path, cloud.listen, cloud.connect) == (CLOUD_JSON5, fleet.cloud.listen, ())
    assert (eu_west.config_path, eu_west.listen, eu_west.connect) == (
        EU_WEST_JSON5, ("tcp/127.0.0.1:17448",), fleet.cloud.listen
    )
    assert (ap_south.config_path, ap_south.listen, ap_south.connect) == (
        None, ("tcp/127.0.0.1:17450", "ws/127.0.0.1:17451"), fleet.cloud.listen
    )
    assert ap_south.overrides == (("scouting/multicast/enabled", "false"),)


def test_zenoh_config_file_finds_the_shipped_json5_and_none_for_an_unknown_name() -> None:
    assert zenoh_config_file("cloud") == CLOUD_JSON5
    assert zenoh_config_file("us-east") == US_EAST_JSON5
    assert zenoh_config_file("ap-south") is None


# --- aggregator and vehicles -------------------------------------------------------------------


def test_the_aggregator_reads_the_fleet_config_the_demo_runs(shipped: FleetConfig) -> None:
    assert aggregator_part(shipped, CONFIG_PATH) == Part(
        "aggregator", PartKind.AGGREGATOR, ("--config", str(CONFIG_PATH))
    )


def test_a_vehicles_parts_run_in_its_own_ros_domain_with_its_name_and_the_config(shipped: FleetConfig) -> None:
    sensor_sim, bridge = vehicle_parts(shipped.vehicle("rover-02"), CONFIG_PATH)

    args = ("--config", str(CONFIG_PATH), "--vehicle", "rover-02")
    assert sensor_sim == Part("rover-02 sensor_sim", PartKind.SENSOR_SIM, args, {"ROS_DOMAIN_ID": "12"}, "rover-02")
    assert bridge == Part("rover-02 zenoh_bridge", PartKind.BRIDGE, args, {"ROS_DOMAIN_ID": "12"}, "rover-02")


def test_every_vehicle_part_carries_that_vehicles_ros_domain_id(shipped: FleetConfig) -> None:
    domains = {
        part.name: part.env["ROS_DOMAIN_ID"]
        for part in fleet_parts(shipped, CONFIG_PATH)
        if part.vehicle is not None
    }
    assert domains == {
        "rover-01 sensor_sim": "11", "rover-01 zenoh_bridge": "11",
        "rover-02 sensor_sim": "12", "rover-02 zenoh_bridge": "12",
        "rover-03 sensor_sim": "13", "rover-03 zenoh_bridge": "13",
    }


def test_routers_aggregator_and_recorder_add_no_environment(shipped: FleetConfig) -> None:
    assert [part.env for part in fleet_parts(shipped, CONFIG_PATH)[:5]] == [{}, {}, {}, {}, {}]


def test_a_vehicles_bridge_given_its_plan_arguments_connects_to_its_region_router_in_its_domain(
    shipped: FleetConfig, store: TypeStore
) -> None:
    from telemetry.ros.zenoh_bridge import build_parser, resolve

    config_path = default_fleet_config_path()
    bridge = vehicle_parts(shipped.vehicle("rover-03"), config_path)[1]

    settings, session, domain_id = resolve(build_parser().parse_args(bridge.args), store)

    assert (settings.region, settings.vehicle) == ("us-east", "rover-03")
    assert session.connect == ("tcp/127.0.0.1:7449",)
    assert domain_id == 13 == int(bridge.env["ROS_DOMAIN_ID"])


def test_sensor_sim_accepts_a_vehicles_plan_arguments(shipped: FleetConfig) -> None:
    from telemetry.ros.sensor_sim import parse_args

    sensor_sim = vehicle_parts(shipped.vehicle("rover-01"), CONFIG_PATH)[0]

    args = parse_args(["sensor_sim", *sensor_sim.args])

    assert (args.config, args.vehicle, args.domain_id) == (CONFIG_PATH, "rover-01", None)


# --- what runs: console scripts and modules ----------------------------------------------------


def test_every_part_runs_a_console_script_that_setup_py_installs(shipped: FleetConfig) -> None:
    scripts = _console_scripts()
    executables = {part.executable for part in fleet_parts(shipped, CONFIG_PATH)}

    assert executables == {"router", "aggregator", "recorder", "sensor_sim", "zenoh_bridge"}
    assert executables <= scripts.keys(), f"not in setup.py: {sorted(executables - scripts.keys())}"


def test_every_part_module_is_importable_and_is_the_module_of_its_console_script(shipped: FleetConfig) -> None:
    scripts = _console_scripts()
    for kind in (k for k in PartKind if k is not PartKind.TOOL):  # TOOL: a benchmark's helper, named per part
        part = Part("any", kind, ())
        assert importlib.util.find_spec(part.module) is not None, f"{part.module} is not importable"
        assert part.module == scripts[part.executable], f"{kind}: setup.py runs {scripts[part.executable]}"


def test_a_tool_part_runs_the_module_it_names() -> None:
    part = Part("blaster-0", PartKind.TOOL, (), tool_module="telemetry.bench.blaster")
    assert part.module == "telemetry.bench.blaster"


def test_log_names_are_one_file_per_part_without_spaces(shipped: FleetConfig) -> None:
    names = [part.log_name for part in fleet_parts(shipped, CONFIG_PATH)]

    assert names[:6] == [
        "cloud-router.log", "eu-west-router.log", "us-east-router.log", "aggregator.log", "recorder.log",
        "rover-01-sensor_sim.log",
    ]
    assert len(set(names)) == len(names)
    assert not any(" " in name for name in names)


def test_a_secure_fleet_gives_every_zenoh_party_its_generated_config(shipped: FleetConfig, tmp_path: Path) -> None:
    zenoh_dir = tmp_path / "zenoh"
    parts = {part.name: part for part in fleet_parts(shipped, CONFIG_PATH, zenoh_dir)}
    assert parts["cloud router"].args[:2] == ("-c", str(zenoh_dir / "cloud.json5"))
    assert parts["us-east router"].args[:2] == ("-c", str(zenoh_dir / "us-east.json5"))
    assert parts["aggregator"].args[-2:] == ("--zenoh-config", str(zenoh_dir / "aggregator.json5"))
    assert parts["rover-02 zenoh_bridge"].args[-2:] == ("--zenoh-config", str(zenoh_dir / "rover-02.json5"))
    assert "--zenoh-config" not in parts["rover-02 sensor_sim"].args  # ROS only: no Zenoh session


def test_a_secure_vehicles_bridge_connects_where_its_config_file_says(
    shipped: FleetConfig, store: TypeStore, tmp_path: Path
) -> None:
    """The file's TLS endpoint wins over the fleet's plain one: -c replaces, it does not add."""
    from telemetry.ros.zenoh_bridge import build_parser, resolve
    from telemetry.security.deployment import write_secure_configs

    write_secure_configs(shipped, tmp_path, tmp_path / "pki", "test")
    bridge = vehicle_parts(shipped.vehicle("rover-03"), default_fleet_config_path(), tmp_path)[1]

    _, session, _ = resolve(build_parser().parse_args(bridge.args), store)

    assert session.config_path == tmp_path / "rover-03.json5"
    assert session.connect == ()  # so the file's tls/127.0.0.1:7449 is used


def test_the_launch_files_zenoh_dir_argument_is_a_folder_or_empty(tmp_path: Path) -> None:
    from telemetry.demo.plan import zenoh_dir_argument

    assert zenoh_dir_argument("") is None
    assert zenoh_dir_argument(str(tmp_path)) == tmp_path.resolve()
    with pytest.raises(ConfigError, match=r"zenoh_dir:=/no/such: no such folder \(make it with `telemetry acl"):
        zenoh_dir_argument("/no/such")
