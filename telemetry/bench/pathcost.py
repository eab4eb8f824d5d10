"""CPU per delivered sample, per process and for the whole path: arithmetic on one measured
window, no I/O (DESIGN.md, "Cost per sample, latency budget, overload").

Each process's CPU over the window is divided by the samples that crossed it: a vehicle's
sensor_sim and bridge carry that vehicle's samples, a regional router its region's
vehicles', the cloud router and the aggregator everyone's. Process names are the parts'
names as telemetry.demo.plan spells them ("rover-01 zenoh_bridge", "eu-west router",
"cloud router", "aggregator"), plus the floor's "rover-01 publisher".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["PATH_ROLES", "PathCost", "Role", "path_cost", "process_rows", "process_samples", "role_of"]


class Role(StrEnum):
    """What a process does on the path; the last word of its part name for vehicle parts."""

    SENSOR_SIM = "sensor_sim"
    BRIDGE = "zenoh_bridge"
    PUBLISHER = "publisher"  # the floor's plain Zenoh publisher, in place of sensor_sim and bridge
    REGION_ROUTER = "region router"
    CLOUD_ROUTER = "cloud router"
    AGGREGATOR = "aggregator"


#: What "the path" costs (DESIGN.md: bridge + routers + aggregator, sensor_sim reported apart).
#: The floor's publisher stands where the bridge stands.
PATH_ROLES = frozenset({Role.BRIDGE, Role.PUBLISHER, Role.REGION_ROUTER, Role.CLOUD_ROUTER, Role.AGGREGATOR})
_VEHICLE_ROLES = frozenset({Role.SENSOR_SIM, Role.BRIDGE, Role.PUBLISHER})
_BY_LAST_WORD = {"sensor_sim": Role.SENSOR_SIM, "zenoh_bridge": Role.BRIDGE, "publisher": Role.PUBLISHER,
                 "router": Role.REGION_ROUTER}


def role_of(process: str) -> Role:
    """The role of a process named as the bench's parts are; ValueError for any other name."""
    if process in (Role.CLOUD_ROUTER.value, Role.AGGREGATOR.value):
        return Role(process)
    owner, _, last = process.rpartition(" ")
    role = _BY_LAST_WORD.get(last)
    if role is None or not owner:
        raise ValueError(f"process {process!r}: not a part of the bench's fleet (no role)")
    return role


def process_samples(process: str, per_vehicle: Mapping[str, int], regions: Mapping[str, str]) -> int:
    """The delivered samples that crossed `process`; `regions` maps each vehicle to its region."""
    role = role_of(process)
    owner = process.rpartition(" ")[0]
    if role in _VEHICLE_ROLES:
        return per_vehicle.get(owner, 0)
    if role is Role.REGION_ROUTER:
        return sum(n for vehicle, n in per_vehicle.items() if regions.get(vehicle) == owner)
    return sum(per_vehicle.values())


def _us_per_sample(cpu_s: float, samples: int) -> float:
    return 1e6 * cpu_s / samples if samples else math.nan


def process_rows(cpu_s: Mapping[str, float], window_s: float, per_vehicle: Mapping[str, int],
                 regions: Mapping[str, str]) -> list[dict[str, Any]]:
    """One row per process, by name: % of one core, samples it carried, µs CPU per sample."""
    rows = []
    for name, seconds in sorted(cpu_s.items()):
        samples = process_samples(name, per_vehicle, regions)
        rows.append({"process": name, "cpu_pct": round(100 * seconds / window_s, 1), "samples": samples,
                     "us_per_sample": round(_us_per_sample(seconds, samples), 1)})
    return rows


@dataclass(frozen=True)
class PathCost:
    """µs CPU per delivered sample by role (NaN: no such process in the run)."""

    sensor_sim_us: float  # mean over vehicles
    bridge_us: float  # mean over vehicles (the floor: its publishers)
    region_routers_us: float  # their CPU summed over the samples they carried summed
    cloud_router_us: float
    aggregator_us: float
    path_us: float  # the PATH_ROLES' CPU over every delivered sample
    cpu_pct: float  # every process, % of one core

    def as_columns(self) -> dict[str, float]:
        return {"sensor_sim_us": round(self.sensor_sim_us, 1), "bridge_us": round(self.bridge_us, 1),
                "region_routers_us": round(self.region_routers_us, 1),
                "cloud_router_us": round(self.cloud_router_us, 1), "aggregator_us": round(self.aggregator_us, 1),
                "path_us": round(self.path_us, 1), "cpu_pct": round(self.cpu_pct, 1)}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def path_cost(cpu_s: Mapping[str, float], window_s: float, per_vehicle: Mapping[str, int],
              regions: Mapping[str, str]) -> PathCost:
    """The window's CPU per delivered sample by role and for the whole path."""
    def of(*roles: Role) -> list[str]:
        return [name for name in cpu_s if role_of(name) in roles]

    def carried(names: list[str]) -> float:
        samples = sum(process_samples(n, per_vehicle, regions) for n in names)
        return _us_per_sample(sum(cpu_s[n] for n in names), samples)

    def mean_of(*roles: Role) -> float:
        return _mean([_us_per_sample(cpu_s[n], process_samples(n, per_vehicle, regions)) for n in of(*roles)])

    total = sum(per_vehicle.values())
    path_cpu_s = sum(seconds for name, seconds in cpu_s.items() if role_of(name) in PATH_ROLES)
    return PathCost(
        sensor_sim_us=mean_of(Role.SENSOR_SIM),
        bridge_us=mean_of(Role.BRIDGE, Role.PUBLISHER),
        region_routers_us=carried(of(Role.REGION_ROUTER)),
        cloud_router_us=carried(of(Role.CLOUD_ROUTER)),
        aggregator_us=carried(of(Role.AGGREGATOR)),
        path_us=_us_per_sample(path_cpu_s, total),
        cpu_pct=100 * sum(cpu_s.values()) / window_s if window_s > 0 else math.nan,
    )
