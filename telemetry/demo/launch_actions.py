"""The plan's parts as `ros2 launch` actions (needs `launch` and `launch_ros`: a ROS install).

launch/*.launch.py stay a few lines each and read the same fleet config and the same
`telemetry.demo.plan` as `telemetry demo`, so no vehicle, router or stream is listed twice.
ROS nodes become `launch_ros.actions.Node`; the routers, the aggregator and the recorder are not ROS nodes
(they take no --ros-args), so they run as plain processes of this package's executables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import ExecutableInPackage

from telemetry.config import VehicleSource
from telemetry.demo.plan import (
    Part,
    PartKind,
    fleet_parts,
    infrastructure_parts,
    load_fleet,
    region_endpoint,
    vehicle_parts,
    zenoh_dir_argument,
)
from telemetry.errors import ConfigError

__all__ = [
    "config_argument",
    "demo_actions",
    "described",
    "fleet_actions",
    "secure_configs_argument",
    "vehicle_actions",
]

PACKAGE = "telemetry"
_ROS_NODES = (PartKind.SENSOR_SIM, PartKind.BRIDGE)


def described(build: Callable[..., list[Any]], *arguments: Any) -> Any:
    """A launch description: `arguments` (DeclareLaunchArgument), then `build`'s actions, built
    once the values are known with each argument's value passed under the argument's name."""

    def actions(context: Any, *_args: Any, **_kwargs: Any) -> list[Any]:
        return build(**{a.name: LaunchConfiguration(a.name).perform(context) for a in arguments})

    return LaunchDescription([*arguments, OpaqueFunction(function=actions)])


def config_argument() -> Any:
    """`config:=FILE`, which every launch file takes."""
    return DeclareLaunchArgument("config", default_value="", description="fleet config (default: the shipped one)")


def secure_configs_argument() -> Any:
    """`zenoh_dir:=DIR`, which every launch file takes."""
    return DeclareLaunchArgument(
        "zenoh_dir", default_value="",
        description="a secure deployment's Zenoh configs (`telemetry acl FLEET --out DIR`): "
        "mutual TLS and access control; default: the plain shipped configs",
    )


def action(part: Part) -> Any:
    if part.kind in _ROS_NODES:
        return Node(package=PACKAGE, executable=part.executable, arguments=list(part.args),
                    additional_env=dict(part.env), output="screen")
    return ExecuteProcess(
        cmd=[ExecutableInPackage(part.executable, PACKAGE), *part.args],
        name=part.name.replace(" ", "_"), additional_env=dict(part.env), output="screen",
    )


def vehicle_actions(config: str, vehicle: str, region: str = "", router: str = "", zenoh_dir: str = "") -> list[Any]:
    """sensor_sim and zenoh_bridge of `vehicle`; `router` replaces its region router's endpoint."""
    fleet, path = load_fleet(config)
    chosen = fleet.vehicle(vehicle)
    if region and region != chosen.region:
        raise ConfigError(f"{path}: vehicle {vehicle!r} is in region {chosen.region!r}, not {region!r}")
    if chosen.source is VehicleSource.RMW_ZENOH:
        raise ConfigError(f"{path}: vehicle {vehicle!r} runs rmw_zenoh, so nothing of ours runs on it: connect its "
                          f"rmw_zenohd router to its region's ({region_endpoint(fleet, chosen)})")
    parts = vehicle_parts(chosen, path, zenoh_dir_argument(zenoh_dir))
    if router:
        parts = [p if p.kind is not PartKind.BRIDGE else _with_args(p, ("-e", router)) for p in parts]
    return [action(part) for part in parts]


def fleet_actions(config: str, zenoh_dir: str = "") -> list[Any]:
    """The cloud and regional routers, the aggregator and the recorder: the fleet's fixed infrastructure."""
    fleet, path = load_fleet(config)
    return [action(part) for part in infrastructure_parts(fleet, path, zenoh_dir_argument(zenoh_dir))]


def demo_actions(config: str, zenoh_dir: str = "") -> list[Any]:
    """Everything `telemetry demo` starts, without the dashboard."""
    fleet, path = load_fleet(config)
    return [action(part) for part in fleet_parts(fleet, path, zenoh_dir_argument(zenoh_dir))]


def _with_args(part: Part, extra: tuple[str, ...]) -> Part:
    return replace(part, args=part.args + extra)
