"""Which processes a fleet needs, in start order: one list for `telemetry demo` and launch/.

A `Part` names both its console script (for `ros2 launch`, which runs installed
executables) and its Python module (for the supervisor, which runs `python -m` with the
same interpreter, so a venv need not be on PATH). Nothing here starts anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from telemetry.config import (
    FleetConfig,
    VehicleConfig,
    VehicleSource,
    default_fleet_config_path,
    load_fleet_config,
    shipped_file,
)
from telemetry.errors import ConfigError
from telemetry.sim.sensors import IMU_TYPE

__all__ = [
    "Part",
    "PartKind",
    "aggregator_part",
    "fleet_parts",
    "infrastructure_parts",
    "load_fleet",
    "recorder_part",
    "region_endpoint",
    "rmw_zenoh_parts",
    "router_parts",
    "vehicle_parts",
    "zenoh_config_file",
    "zenoh_dir_argument",
]


class PartKind(Enum):
    ROUTER = "router"
    AGGREGATOR = "aggregator"
    RECORDER = "recorder"
    SENSOR_SIM = "sensor_sim"
    BRIDGE = "zenoh_bridge"
    RMW_ZENOH_SIM = "rmw_zenoh_sim"  # the stand-in for a robot on rmw_zenoh (telemetry.sim.rmw_zenoh_node)
    TOOL = "tool"  # a benchmark's helper process: `module` names it


_MODULES = {
    PartKind.ROUTER: "telemetry.net.router",
    PartKind.AGGREGATOR: "telemetry.aggregator.service",
    PartKind.RECORDER: "telemetry.recorder.service",
    PartKind.SENSOR_SIM: "telemetry.ros.sensor_sim",
    PartKind.BRIDGE: "telemetry.ros.zenoh_bridge",
    PartKind.RMW_ZENOH_SIM: "telemetry.sim.rmw_zenoh_node",
}


@dataclass(frozen=True)
class Part:
    """One process: what it is, its arguments, and the environment it adds."""

    name: str  # "cloud router", "rover-01 sensor_sim": what progress lines and errors say
    kind: PartKind
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    vehicle: str | None = None
    tool_module: str = ""  # PartKind.TOOL only

    @property
    def executable(self) -> str:
        """The console script setup.py installs (what a launch file runs)."""
        return self.kind.value

    @property
    def module(self) -> str:
        return self.tool_module if self.kind is PartKind.TOOL else _MODULES[self.kind]

    @property
    def log_name(self) -> str:
        return self.name.replace(" ", "-") + ".log"


def load_fleet(config: str | Path = "") -> tuple[FleetConfig, Path]:
    """The fleet config a launch argument names ("" for the shipped one), checked as always."""
    path = Path(config).resolve() if config else default_fleet_config_path()
    return load_fleet_config(path), path


def zenoh_config_file(name: str) -> Path | None:
    """The shipped config/zenoh/<name>.json5, or None when there is none for that name."""
    try:
        return shipped_file(Path("config") / "zenoh" / f"{name}.json5")
    except ConfigError:
        return None


def zenoh_dir_argument(value: str) -> Path | None:
    """A launch argument naming a secure deployment's configs (`telemetry acl --out DIR`);
    "" for the plain shipped ones (None)."""
    if not value:
        return None
    folder = Path(value).resolve()
    if not folder.is_dir():
        raise ConfigError(f"zenoh_dir:={value}: no such folder (make it with `telemetry acl FLEET --out DIR`)")
    return folder


def _router_args(config_name: str, listen: tuple[str, ...], connect: tuple[str, ...],
                 zenoh_dir: Path | None) -> tuple[str, ...]:
    """Listen and connect always come from the fleet config; the shipped file (or, for a
    secure fleet, the generated one in `zenoh_dir`) adds the rest (no multicast scouting,
    so two demos on one LAN never find each other; TLS and access control)."""
    file = zenoh_dir / f"{config_name}.json5" if zenoh_dir is not None else zenoh_config_file(config_name)
    args = ["-c", str(file)] if file is not None else ["--cfg", "scouting/multicast/enabled:false"]
    for endpoint in listen:
        args += ["-l", endpoint]
    for endpoint in connect:
        args += ["-e", endpoint]
    return tuple(args)


def router_parts(fleet: FleetConfig, zenoh_dir: Path | None = None) -> list[Part]:
    """The cloud router first (regions connect to it), then one per region.

    `zenoh_dir`: a secure fleet's generated Zenoh configs (telemetry.security.deployment),
    one per router and client; None for the shipped plain ones."""
    parts = [Part("cloud router", PartKind.ROUTER, _router_args("cloud", fleet.cloud.listen, (), zenoh_dir))]
    for region in fleet.regions:
        args = _router_args(region.name, region.router.listen, fleet.cloud.listen, zenoh_dir)
        parts.append(Part(f"{region.name} router", PartKind.ROUTER, args))
    return parts


def _client_file(zenoh_dir: Path | None, party: str) -> tuple[str, ...]:
    return ("--zenoh-config", str(zenoh_dir / f"{party}.json5")) if zenoh_dir is not None else ()


def aggregator_part(fleet: FleetConfig, config_path: Path, zenoh_dir: Path | None = None) -> Part:
    args = ("--config", str(config_path), *_client_file(zenoh_dir, "aggregator"))
    return Part("aggregator", PartKind.AGGREGATOR, args)


def recorder_part(fleet: FleetConfig, config_path: Path, folder: Path | None = None,
                  zenoh_dir: Path | None = None) -> Part:
    """The fleet's recorder; `folder` overrides the config's `recording.folder` (the demo's run folder).

    It runs at a lower CPU priority (nice 10): beside the fleet on one machine, the live path
    must not wait for recording, which has its own queue and catches up."""
    where = ("--folder", str(folder)) if folder is not None else ()
    args = ("--config", str(config_path), *where, "--nice", "10", *_client_file(zenoh_dir, "recorder"))
    return Part("recorder", PartKind.RECORDER, args)


def vehicle_parts(vehicle: VehicleConfig, config_path: Path, zenoh_dir: Path | None = None,
                  sensor_args: tuple[str, ...] = (), region_router: str = "") -> list[Part]:
    """sensor_sim and zenoh_bridge of one vehicle, in its own ROS domain (as if its own machine).

    `sensor_args`: more arguments for sensor_sim alone (a benchmark's `--payload objects`).
    A vehicle on rmw_zenoh runs nothing of ours: the demo simulates it with one stand-in
    node per stream, each a client of its region's router as rmw_zenohd would connect."""
    if vehicle.source is VehicleSource.RMW_ZENOH:
        return rmw_zenoh_parts(vehicle, region_router)
    args = ("--config", str(config_path), "--vehicle", vehicle.name)
    env = {"ROS_DOMAIN_ID": str(vehicle.ros_domain_id)}
    return [
        Part(f"{vehicle.name} sensor_sim", PartKind.SENSOR_SIM, args + sensor_args, env, vehicle.name),
        Part(f"{vehicle.name} zenoh_bridge", PartKind.BRIDGE, args + _client_file(zenoh_dir, vehicle.name), env,
             vehicle.name),
    ]


def rmw_zenoh_parts(vehicle: VehicleConfig, region_endpoint: str) -> list[Part]:
    """The stand-ins of an rmw_zenoh vehicle's streams (the Imu ones: all it can simulate).

    Reliable keep-all QoS, which rmw_zenoh sends with congestion control BLOCK: with SensorDataQoS
    (best effort, DROP) and rmw_zenoh's plain session queues, a demo machine busy at its edge
    dropped 4 of 15 000 samples at the stand-in, which is the machine's doing, not the fleet's."""
    if not region_endpoint:
        raise ConfigError(f"vehicle {vehicle.name!r}: an rmw_zenoh vehicle needs its region router's endpoint")
    parts = []
    for index, stream in enumerate(vehicle.streams):
        if stream.ros_type != IMU_TYPE:
            raise ConfigError(f"vehicle {vehicle.name!r} {stream.topic}: the rmw_zenoh stand-in publishes "
                              f"sensor_msgs/msg/Imu only, not {stream.ros_type}")
        args = ("-e", region_endpoint, "--mode", "client", "--domain", str(vehicle.ros_domain_id),
                "--namespace", vehicle.namespace, "--topic", stream.topic, "--rate", f"{stream.rate_hz:g}",
                "--node", f"imu_driver_{index}", "--keep-all")
        parts.append(Part(f"{vehicle.name} rmw_zenoh_sim{'' if index == 0 else f' {index}'}", PartKind.RMW_ZENOH_SIM,
                          args, vehicle=vehicle.name))
    return parts


def infrastructure_parts(fleet: FleetConfig, config_path: Path, zenoh_dir: Path | None = None) -> list[Part]:
    """The fleet's fixed parts, in start order: routers, aggregator, recorder (into the config's folder)."""
    return [*router_parts(fleet, zenoh_dir), aggregator_part(fleet, config_path, zenoh_dir),
            recorder_part(fleet, config_path, zenoh_dir=zenoh_dir)]


def fleet_parts(fleet: FleetConfig, config_path: Path, zenoh_dir: Path | None = None) -> list[Part]:
    """Everything, in start order: routers, aggregator, recorder, then each vehicle."""
    parts = infrastructure_parts(fleet, config_path, zenoh_dir)
    for vehicle in fleet.vehicles:
        parts += vehicle_parts(vehicle, config_path, zenoh_dir, region_router=region_endpoint(fleet, vehicle))
    return parts


def region_endpoint(fleet: FleetConfig, vehicle: VehicleConfig) -> str:
    """Where a vehicle connects: its region router's first listen endpoint."""
    return fleet.region(vehicle.region).router.listen[0]
