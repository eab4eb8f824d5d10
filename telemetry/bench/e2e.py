"""e2e: the real pipeline. sensor_sim (1 kHz Imu, with odom, gnss, battery) → zenoh_bridge →
regional router → cloud router → the aggregator and a measuring subscriber, 3 vehicles
running, all on loopback.

Latency is the subscriber's receive time minus the Imu's header stamp (sensor_sim stamps at
publish), so it covers DDS, the bridge, two routers and the subscriber's own callback. CPU
per sample divides each process's CPU seconds over the window by the samples that crossed it.
The fleet is the shipped config/fleet.yaml's streams, so the IMU runs with the shipped
latency budget, and the latency goal is the one DESIGN.md sets for that budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telemetry.bench.latency import StreamMeasure
from telemetry.bench.network import BenchFleet, FleetChange
from telemetry.bench.pathcost import process_rows
from telemetry.bench.paths import PathRun, measure_path, percentile_columns
from telemetry.bench.results import BenchResult, Target
from telemetry.config import FleetConfig
from telemetry.demo.plan import load_fleet
from telemetry.keys import KeyKind, KeySpace

__all__ = ["FleetRun", "LatencyGoal", "imu_budget_ms", "latency_goal", "latency_targets", "loss_target",
           "measure_fleet", "plot", "run", "shipped_imu_budget_ms", "worst_latency_ms"]

VEHICLES = 3
IMU_TOPIC = "/imu"
BRIDGE_GOAL_US = 100.0


@dataclass(frozen=True)
class LatencyGoal:
    """DESIGN.md's end-to-end IMU goal for a latency budget."""

    p50_ms: float
    p99_ms: float


AT_ONCE_GOAL = LatencyGoal(1.0, 3.0)  # budget 0: each sample sent at once
BUDGETED_GOAL = LatencyGoal(2.0, 5.0)  # the shipped default when it holds samples


def latency_goal(budget_ms: float) -> LatencyGoal:
    return BUDGETED_GOAL if budget_ms > 0 else AT_ONCE_GOAL


def imu_budget_ms(fleet: FleetConfig) -> float:
    """The IMU's `batch_ms` in `fleet` (its first vehicle's), 0.0 when it is sent at once."""
    for stream in fleet.vehicles[0].streams:
        if stream.topic == IMU_TOPIC:
            return stream.batch_ms or 0.0
    return 0.0


def shipped_imu_budget_ms() -> float:
    """What config/fleet.yaml says today: read at run time, so the figures follow the file."""
    return imu_budget_ms(load_fleet("")[0])


@dataclass(frozen=True)
class FleetRun:
    """One measured window of the bench fleet, with what it takes to read it by vehicle."""

    path: PathRun
    keys: KeySpace
    regions: dict[str, str]  # vehicle → region
    imu_budget_ms: float

    def imu(self) -> dict[str, StreamMeasure]:
        """Each vehicle's IMU stream as the probe saw it, by vehicle name."""
        return {vehicle: self.path.streams[key] for vehicle, key in self._imu_keys().items()}

    def imu_lost_dds(self) -> dict[str, int]:
        """Each vehicle's IMU samples lost between sensor_sim and its bridge (bridge health)."""
        return {vehicle: hops.lost_dds for vehicle, key in self._imu_keys().items()
                if (hops := self.path.hops.get(key)) is not None}

    def _imu_keys(self) -> dict[str, str]:
        found = {}
        for key in self.path.streams:
            parsed = self.keys.parse(key)
            if parsed.topic == IMU_TOPIC and parsed.vehicle is not None:
                found[parsed.vehicle] = key
        return dict(sorted(found.items()))

    def imu_messages(self) -> int:
        """Messages that carried the IMU samples (one per sample sent alone, one per batch)."""
        return sum(n for key, n in self.path.messages.items() if self.keys.parse(key).topic == IMU_TOPIC)

    def lost_before_bridge(self) -> tuple[int, int]:
        """(lost between source and bridge, dropped in the bridge) over every stream, from the
        bridges' own reports: loss the probe cannot see as gaps."""
        hops = self.path.hops.values()
        return sum(h.lost_dds for h in hops), sum(h.dropped_bridge for h in hops)

    def samples_by_vehicle(self) -> dict[str, int]:
        """Samples of every stream delivered, by vehicle."""
        counts = dict.fromkeys(self.regions, 0)
        for key, measure in self.path.streams.items():
            vehicle = self.keys.parse(key).vehicle
            if vehicle is not None:
                counts[vehicle] = counts.get(vehicle, 0) + measure.samples
        return counts


#: Starts what feeds the routers once they (and the aggregator) are up: by default each
#: vehicle's sensor_sim and bridge.
Sources = Callable[[BenchFleet], None]


def measure_fleet(duration_s: float, warmup_s: float, log_dir: Path | None, change: FleetChange | None = None,
                  sources: Sources = BenchFleet.start_vehicles) -> FleetRun:
    """The bench fleet (routers, aggregator, `sources`) measured at the cloud router for
    `duration_s` after `warmup_s`; `change` edits the shipped fleet first."""
    with BenchFleet(VEHICLES, log_dir, change) as net:
        net.start_routers()
        net.start_aggregator()
        sources(net)
        keys = KeySpace(net.fleet.key_root)
        imu_keys = [keys.data(v.region, v.name, IMU_TOPIC) for v in net.fleet.vehicles]
        measured = measure_path(net.cloud_endpoint, keys.selector(KeyKind.DATA), net.supervisor.children, warmup_s,
                                duration_s, health=keys, expect=imu_keys)
        fleet = net.fleet
    return FleetRun(measured, keys, {v.name: v.region for v in fleet.vehicles}, imu_budget_ms(fleet))


def run(duration_s: float, log_dir: Path | None = None, warmup_s: float = 3.0) -> BenchResult:
    return _result(measure_fleet(duration_s, warmup_s, log_dir), duration_s)


def _result(run: FleetRun, duration_s: float) -> BenchResult:
    imu, lost_dds = run.imu(), run.imu_lost_dds()
    rows = [{"vehicle": vehicle, "rate_hz": round(m.rate_hz, 1), "lost": m.lost, "lost_dds": lost_dds.get(vehicle, 0),
             **percentile_columns(m)} for vehicle, m in imu.items()]
    cost = process_rows(run.path.cpu_s, run.path.window_s, run.samples_by_vehicle(), run.regions)
    bridge_us = max((row["us_per_sample"] for row in cost if row["process"].endswith("zenoh_bridge")),
                    default=math.nan)
    network = sum(m.lost for m in run.path.streams.values())
    rate = min((m.rate_hz for m in imu.values()), default=0.0)
    title = f"e2e: sensor_sim -> bridge -> 2 routers -> aggregator and subscriber, {VEHICLES} vehicles"
    return BenchResult("e2e", title, rows,
                       params={"duration_s": duration_s, "vehicles": VEHICLES, "window_s": run.path.window_s,
                               "imu_budget_ms": run.imu_budget_ms},
                       targets=[*latency_targets(worst_latency_ms(imu, "p50"), worst_latency_ms(imu, "p99"),
                                                 latency_goal(run.imu_budget_ms)),
                                Target("delivered Imu rate (lowest)", ">= 995 Hz", f"{rate:.1f} Hz", rate >= 995),
                                loss_target(network, *run.lost_before_bridge(), duration_s),
                                Target("bridge CPU per forwarded sample (worst)", f"<= {BRIDGE_GOAL_US:g} us",
                                       f"{bridge_us:.0f} us", bridge_us <= BRIDGE_GOAL_US)],
                       tables={"CPU per process over the window": cost})


def worst_latency_ms(imu: dict[str, StreamMeasure], name: str) -> float:
    """The highest `name` percentile ("p50", "p99", ...) over the vehicles; NaN if none arrived."""
    return max((m.latency_ms[name] for m in imu.values()), default=math.nan)


def latency_targets(p50_ms: float, p99_ms: float, goal: LatencyGoal, prefix: str = "") -> list[Target]:
    """The worst vehicle's p50 and p99 against `goal` (a NaN, nothing arrived, misses)."""
    return [Target(f"{prefix}e2e p50 (worst vehicle)", f"<= {goal.p50_ms:g} ms", f"{p50_ms:.3f} ms",
                   p50_ms <= goal.p50_ms),
            Target(f"{prefix}e2e p99 (worst vehicle)", f"<= {goal.p99_ms:g} ms", f"{p99_ms:.3f} ms",
                   p99_ms <= goal.p99_ms)]


def loss_target(network: int, dds: int, bridge: int, duration_s: float, prefix: str = "") -> Target:
    """0 lost at every hop: the network's gaps (the probe), and what the bridges counted lost
    before them (DDS) or dropped themselves, which the probe sees only as a lower rate."""
    total = network + dds + bridge
    return Target(f"{prefix}loss over {duration_s:g} s (all streams, every hop)", "0",
                  f"{total} (network {network}, dds {dds}, bridge {bridge})", total == 0)


def plot(axes: Any, result: BenchResult) -> None:
    names = [key for key in result.rows[0] if key.endswith("_ms")]
    width = 0.8 / len(result.rows)
    for index, row in enumerate(result.rows):
        axes.bar([i + index * width for i in range(len(names))], [row[n] for n in names], width, label=row["vehicle"])
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], [n.removesuffix("_ms") for n in names])
    axes.set_yscale("log")
    axes.set_ylabel("latency, ms (log)")
    goal = latency_goal(float(result.params.get("imu_budget_ms", 0.0)))
    axes.axhline(goal.p50_ms, color="grey", linestyle=":", linewidth=1)
    axes.axhline(goal.p99_ms, color="red", linestyle=":", linewidth=1)
    axes.legend()
