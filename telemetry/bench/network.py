"""The benchmark's fleet on this machine: the demo's processes, on free ports and in ROS
domains of their own, so a benchmark never meets a running demo or another benchmark."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from telemetry.config import FleetConfig, RegionConfig, RouterConfig, load_fleet_config
from telemetry.demo.fleet_yaml import fleet_to_yaml
from telemetry.demo.plan import Part, aggregator_part, load_fleet, router_parts, vehicle_parts
from telemetry.demo.scale import scaled_fleet
from telemetry.demo.supervisor import Child, Supervisor

__all__ = ["BenchFleet", "FleetChange", "free_endpoint", "local_fleet"]

#: A change to the benchmark's fleet before its processes read it (e.g. one stream's budget).
FleetChange = Callable[[FleetConfig], FleetConfig]


def free_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp/127.0.0.1:{probe.getsockname()[1]}"


def local_fleet(vehicles: int, folder: Path, change: FleetChange | None = None) -> tuple[FleetConfig, Path]:
    """The shipped fleet resized to `vehicles`, every router on a free port, written to `folder`.

    `change` edits that fleet before it is written, so a benchmark varies one setting of
    whatever the shipped config says rather than a copy of it that would drift."""
    fleet, _ = load_fleet("")
    base_domain = 150 + os.getpid() % 60  # away from the demo's 11.. and the tests' 20..90
    fleet = scaled_fleet(replace(fleet, vehicles=tuple(replace(v, ros_domain_id=base_domain)
                                                       for v in fleet.vehicles[:1])), vehicles)
    fleet = replace(
        fleet,
        cloud=RouterConfig((free_endpoint(),)),
        regions=tuple(RegionConfig(r.name, RouterConfig((free_endpoint(),))) for r in fleet.regions),
    )
    if change is not None:
        fleet = change(fleet)
    path = folder / "fleet.yaml"
    path.write_text(fleet_to_yaml(fleet, "benchmark fleet"), encoding="utf-8")
    return load_fleet_config(path), path


class BenchFleet:
    """Routers, optionally the aggregator, and vehicles, started and stopped by pid."""

    def __init__(self, vehicles: int, log_dir: Path | None = None, change: FleetChange | None = None) -> None:
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="telemetry-bench-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.fleet, self.config_path = local_fleet(vehicles, self.log_dir, change)
        self.supervisor = Supervisor(self.log_dir)
        self.routers: list[Child] = []
        self.vehicles: list[Child] = []
        self.aggregator: Child | None = None

    def __enter__(self) -> BenchFleet:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.supervisor.stop_all()

    def start_routers(self) -> None:
        for part in router_parts(self.fleet):
            child = self.supervisor.start(part)
            self.supervisor.wait_for_line(child, " listening on ", 30)
            self.routers.append(child)

    def start_aggregator(self) -> Child:
        self.aggregator = self._start(aggregator_part(self.fleet, self.config_path), " ready")
        return self.aggregator

    def start_vehicles(self, sensor_args: tuple[str, ...] = ()) -> None:
        """Every vehicle's sensor_sim (with `sensor_args` added) and bridge, up and forwarding."""
        for vehicle in self.fleet.vehicles:
            for part in vehicle_parts(vehicle, self.config_path, sensor_args=sensor_args):
                self.vehicles.append(self.supervisor.start(part))
        for child in self.vehicles:
            if child.part.kind.value == "zenoh_bridge":
                self.supervisor.wait_for_line(child, "forwarding ", 60)

    def start(self, part: Part, ready: str | None = None) -> Child:
        return self._start(part, ready)

    def _start(self, part: Part, ready: str | None) -> Child:
        child = self.supervisor.start(part)
        if ready is not None:
            self.supervisor.wait_for_line(child, ready, 60)
        return child

    def region_endpoint(self, index: int = 0) -> str:
        return self.fleet.regions[index % len(self.fleet.regions)].router.listen[0]

    @property
    def cloud_endpoint(self) -> str:
        return self.fleet.cloud.listen[0]


def settle(seconds: float) -> None:
    """Warm-up: routes, DDS discovery and JITs settle before the measured window."""
    time.sleep(seconds)
