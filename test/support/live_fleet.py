"""A small fleet of real processes for fault tests: kill a part, start it again, read its logs.

The parts are the demo's own (telemetry.demo.plan: the same arguments `telemetry demo` and
launch/ use), started by the demo's Supervisor (one log file per process, stop by pid:
SIGTERM, then SIGKILL). The fleet is one vehicle in one region, on free ports and in a ROS
domain of its own, to keep the 2-core machine quiet enough that a measured reconnection
time is the product's, not the scheduler's.

A regional router can be pointed at another endpoint than the cloud's (`region_connect`),
which is how the WAN tests put their relay on the region-to-cloud hop.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from support.fleet_files import DEFAULT_STREAMS, next_domain_id, write_fleet_config
from support.processes import free_port
from telemetry.config import FleetConfig, load_fleet_config
from telemetry.demo.plan import (
    Part,
    PartKind,
    aggregator_part,
    router_parts,
    vehicle_parts,
)
from telemetry.demo.supervisor import Child, Supervisor, find_line

__all__ = [
    "AGGREGATOR",
    "BRIDGE",
    "CLOUD",
    "REGION",
    "REGION_ROUTER",
    "SENSOR_SIM",
    "VEHICLE",
    "LiveFleet",
    "Restart",
    "StatusChangeLine",
]

# The fleet's one region and vehicle, and its parts' names (telemetry.demo.plan names them).
REGION = "eu-west"
VEHICLE = "rover-01"
CLOUD = "cloud router"
REGION_ROUTER = f"{REGION} router"
AGGREGATOR = "aggregator"
BRIDGE = f"{VEHICLE} zenoh_bridge"
SENSOR_SIM = f"{VEHICLE} sensor_sim"

#: What each kind of part prints once it is up (the demo waits for the same words).
_READY = {PartKind.ROUTER: " listening on ", PartKind.AGGREGATOR: " ready", PartKind.BRIDGE: "forwarding "}
_START_TIMEOUT_S = 60.0
#: How often a restarted part's log is read for its ready line: figures are measured from it.
_POLL_S = 0.005
_CHANGE = re.compile(r"^(\S+ \S+) \w+ telemetry\.aggregator\.engine: (\S+)/(\S+): (\w+) -> (\w+)$")


@dataclass(frozen=True)
class Restart:
    """A part started again: its child, and when it was spawned and ready (time.monotonic_ns()),
    and when it was ready as time.time() (to place it among log lines)."""

    child: Child
    spawned_ns: int
    ready_ns: int
    ready_s: float


@dataclass(frozen=True)
class StatusChangeLine:
    """One `<region>/<vehicle>: OLD -> NEW` line of the aggregator's log."""

    at_s: float  # the line's stamp, as time.time() (the log writes local time to the millisecond)
    vehicle: str  # "<region>/<vehicle>"
    old: str
    new: str


class LiveFleet:
    """Cloud and regional router, aggregator, one vehicle (sensor_sim and zenoh_bridge)."""

    def __init__(self, folder: Path, streams: Sequence[Mapping[str, Any]] = DEFAULT_STREAMS) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.config_path = write_fleet_config(
            folder / "fleet.yaml", vehicle=VEHICLE, domain_id=next_domain_id(), router_port=free_port(), region=REGION,
            streams=streams,
        )
        self.fleet: FleetConfig = load_fleet_config(self.config_path)
        self.supervisor = Supervisor(folder / "logs")
        self.supervisor.log_dir.mkdir(exist_ok=True)
        self.current: dict[str, Child] = {}  # part name -> the child running it now

    @property
    def cloud_endpoint(self) -> str:
        return self.fleet.cloud.listen[0]

    @property
    def region_endpoint(self) -> str:
        return self.fleet.regions[0].router.listen[0]

    def parts(self, region_connect: str | None = None) -> list[Part]:
        """Every part in start order; the regional router connects to `region_connect` if given."""
        cloud, region = router_parts(self.fleet)
        if region_connect is not None:
            region = _connecting_to(region, self.cloud_endpoint, region_connect)
        return [cloud, region, aggregator_part(self.fleet, self.config_path),
                *vehicle_parts(self.fleet.vehicles[0], self.config_path)]

    def start(self, region_connect: str | None = None) -> None:
        """Start every part in order, each once the one it needs is up; the bridge last.

        The caller stops them (`stop()`, in a `finally` or a fixture), also when this fails."""
        for part in self.parts(region_connect):
            child = self.supervisor.start(part)
            self.current[part.name] = child
            if part.kind is not PartKind.SENSOR_SIM:
                self.supervisor.wait_for_line(child, _READY[part.kind], _START_TIMEOUT_S)

    def stop(self) -> dict[str, int]:
        return self.supervisor.stop_all()

    # --- faults ----------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL the part by pid, as if its machine lost power, and reap it."""
        child = self.current[name]
        os.kill(child.pid, signal.SIGKILL)
        child.process.wait(timeout=10)

    def restart(self, name: str) -> Restart:
        """Start the part again with the same arguments (so the same ports) and wait until it is up.

        It runs under a new name (`<name> again`) so the first run's log file is kept.
        """
        old = self.current[name]
        assert old.process.poll() is not None, f"{name} (pid {old.pid}) still runs: kill it first"
        part = replace(old.part, name=f"{old.part.name} again")
        spawned_ns = time.monotonic_ns()
        child = self.supervisor.start(part)
        self.current[name] = child
        ready = _READY.get(part.kind)
        if ready is not None:
            self._wait_ready(child, ready)
        return Restart(child, spawned_ns, time.monotonic_ns(), time.time())

    def _wait_ready(self, child: Child, text: str) -> None:
        """Like Supervisor.wait_for_line, but looking every 5 ms instead of 50: the
        reconnection figures are measured from the moment this returns."""
        self.supervisor.wait_until(child, lambda: find_line(child.log_path, text), _START_TIMEOUT_S, f"{text!r}",
                                   interval_s=_POLL_S)

    # --- what the processes say ----------------------------------------------------------

    def running(self) -> dict[str, int]:
        """Part name -> pid of every current child that is still running."""
        return {name: child.pid for name, child in self.current.items() if child.process.poll() is None}

    def log(self, name: str) -> str:
        return self.current[name].log_path.read_text(encoding="utf-8", errors="replace")

    def status_changes(self, name: str = AGGREGATOR) -> list[StatusChangeLine]:
        """The vehicle status changes the aggregator logged, from its engine's lines:
        `eu-west/rover-01: ONLINE -> STALE` (slice off the ones logged before a fault)."""
        changes = []
        for line in self.log(name).splitlines():
            match = _CHANGE.match(line)
            if match:
                at, region, vehicle, old, new = match.groups()
                at_s = datetime.strptime(at, "%Y-%m-%d %H:%M:%S,%f").timestamp()
                changes.append(StatusChangeLine(at_s, f"{region}/{vehicle}", old, new))
        return changes


def _connecting_to(part: Part, old: str, new: str) -> Part:
    """The router part with its `-e old` replaced by `-e new`."""
    args = list(part.args)
    for index, (flag, value) in enumerate(itertools.pairwise(args)):
        if flag == "-e" and value == old:
            args[index + 1] = new
            return replace(part, args=tuple(args))
    raise AssertionError(f"{part.name} does not connect to {old}: {part.args}")
