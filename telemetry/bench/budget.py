"""budget: the e2e path's latency against its CPU per sample, for each IMU latency budget.

DESIGN.md ("Cost per sample, latency budget, overload") asks for this curve: each process on
the path pays tens of µs per message, so a budget (`batch_ms`) that lets the bridge send
several samples as one message should lower the CPU per sample of the bridge, the routers
and the aggregator, at the price of latency. Each level is the e2e fleet (3 vehicles, the
aggregator, the shipped config/fleet.yaml's streams) with only the IMU's `batch_ms` changed,
on fresh processes; then the shipped default once more with sensor_sim serializing message
objects (`--payload objects`) instead of packing CDR itself; then the floor (plain Zenoh
publishers, no ROS, no bridge) through the same kind of routers. All in one run, so the
ratios compare like with like.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from telemetry.bench import e2e, floor
from telemetry.bench.e2e import FleetRun, latency_goal, latency_targets
from telemetry.bench.network import BenchFleet, FleetChange
from telemetry.bench.pathcost import path_cost
from telemetry.bench.results import BenchResult, Target
from telemetry.config import FleetConfig

__all__ = ["BUDGETS_MS", "Feed", "Level", "budget_result", "level_row", "levels", "plot", "run", "with_budget"]

_log = logging.getLogger(__name__)

#: The curve's IMU budgets, ms (0: each sample at once); the shipped default is added if missing.
BUDGETS_MS = (0.0, 1.0, 2.0, 3.0, 5.0, 10.0)
#: What the shipped default must save: its path CPU per sample against budget 0's, and
#: sensor_sim's own CPU per sample (packing CDR) against rclpy serializing objects.
PATH_RATIO_GOAL = 0.5
SENSOR_RATIO_GOAL = 0.5
RATE_GOAL_HZ = 995.0


class Feed(StrEnum):
    """What feeds the path at a level: sensor_sim with one of its `--payload` values, or the floor."""

    BYTES = "bytes"  # sensor_sim packs the CDR itself (its default)
    OBJECTS = "objects"  # sensor_sim fills message objects for rclpy to serialize
    FLOOR = "floor"  # plain Zenoh publishers in place of sensor_sim and the bridge


@dataclass(frozen=True)
class Level:
    budget_ms: float
    feed: Feed

    @property
    def name(self) -> str:
        """The level's log folder and plot label."""
        return "floor" if self.feed is Feed.FLOOR else f"imu-{self.budget_ms:g}ms-{self.feed}"


def levels(budgets_ms: Iterable[float], shipped_ms: float) -> list[Level]:
    """The budgets (with 0 and the shipped default, which the targets compare), rising; then the
    shipped default with object payloads; then the floor."""
    budgets = sorted({*budgets_ms, 0.0, shipped_ms})
    return [*(Level(b, Feed.BYTES) for b in budgets), Level(shipped_ms, Feed.OBJECTS), Level(0.0, Feed.FLOOR)]


def with_budget(topic: str, batch_ms: float) -> FleetChange:
    """A fleet change: `topic`'s `batch_ms` set to `batch_ms` on every vehicle (0: at once),
    every other setting as the fleet had it."""
    def change(fleet: FleetConfig) -> FleetConfig:
        vehicles = tuple(replace(v, streams=tuple(replace(s, batch_ms=batch_ms or None) if s.topic == topic else s
                                                  for s in v.streams))
                         for v in fleet.vehicles)
        return replace(fleet, vehicles=vehicles)
    return change


def _start_objects(net: BenchFleet) -> None:
    net.start_vehicles(("--payload", Feed.OBJECTS.value))


def _measure(level: Level, duration_s: float, warmup_s: float, log_dir: Path | None) -> FleetRun:
    folder = log_dir / level.name if log_dir is not None else None
    if level.feed is Feed.FLOOR:
        return e2e.measure_fleet(duration_s, warmup_s, folder, sources=floor.start_publishers)
    change = with_budget(e2e.IMU_TOPIC, level.budget_ms)
    if level.feed is Feed.OBJECTS:
        return e2e.measure_fleet(duration_s, warmup_s, folder, change, sources=_start_objects)
    return e2e.measure_fleet(duration_s, warmup_s, folder, change)


def level_row(level: Level, run: FleetRun) -> dict[str, Any]:
    """One level's line of the curve: worst vehicle's IMU latency, lowest IMU rate, loss of
    every stream, IMU samples per message, µs CPU per delivered sample by role."""
    imu = run.imu()
    samples = sum(m.samples for m in imu.values())
    messages = run.imu_messages()
    cost = path_cost(run.path.cpu_s, run.path.window_s, run.samples_by_vehicle(), run.regions)
    lost_dds, dropped_bridge = run.lost_before_bridge()
    return {
        "budget_ms": level.budget_ms,
        "payload": level.feed.value,
        **{f"{name}_ms": round(e2e.worst_latency_ms(imu, name), 3) for name in ("p50", "p99", "p99.9")},
        "imu_rate_hz": round(min((m.rate_hz for m in imu.values()), default=0.0), 1),
        "lost": sum(m.lost for m in run.path.streams.values()),
        "lost_dds": lost_dds,
        "dropped_bridge": dropped_bridge,
        "samples_per_msg": round(samples / messages, 2) if messages else math.nan,
        **cost.as_columns(),
    }


def run(duration_s: float, log_dir: Path | None = None, warmup_s: float = 3.0,
        budgets_ms: Sequence[float] = BUDGETS_MS) -> BenchResult:
    """Every level, one after the other, each measured for `duration_s` after `warmup_s`."""
    shipped_ms = e2e.shipped_imu_budget_ms()
    rows = []
    for level in levels(budgets_ms, shipped_ms):
        _log.info("budget: measuring %s", level.name)  # a full run takes minutes: say where it is
        rows.append(level_row(level, _measure(level, duration_s, warmup_s, log_dir)))
    return budget_result(rows, shipped_ms, duration_s)


def _find(rows: list[dict[str, Any]], budget_ms: float, feed: Feed) -> dict[str, Any]:
    return next((r for r in rows if r["budget_ms"] == budget_ms and r["payload"] == feed.value), {})


def _ratio(numerator: Any, denominator: Any) -> float:
    try:
        return float(numerator) / float(denominator)
    except (TypeError, ZeroDivisionError):
        return math.nan


def budget_result(rows: list[dict[str, Any]], shipped_ms: float, duration_s: float) -> BenchResult:
    """The rows with DESIGN.md's targets, taken at the shipped default and at budget 0 of this run."""
    shipped, at_once = _find(rows, shipped_ms, Feed.BYTES), _find(rows, 0.0, Feed.BYTES)
    objects = _find(rows, shipped_ms, Feed.OBJECTS)
    return BenchResult(
        "budget", "budget: e2e path by IMU latency budget, latency against CPU per delivered sample", rows,
        params={"duration_s": duration_s, "vehicles": e2e.VEHICLES, "shipped_imu_budget_ms": shipped_ms},
        targets=_targets(shipped, at_once, objects, shipped_ms, duration_s),
        notes=[
            f"shipped default: IMU batch_ms {shipped_ms:g} (config/fleet.yaml, read at run time); "
            "other streams as shipped",
            "latency and rate: the worst vehicle's IMU at a subscriber on the cloud router; lost: every stream's "
            "gaps in the bridges' sequence numbers there (the network)",
            "lost_dds, dropped_bridge: every stream's samples lost between sensor_sim and the bridge (a full DDS "
            "reader queue) and dropped in the bridge, from the bridges' health reports over a span as long as "
            "the window (up to 1 s earlier); the probe cannot see them as gaps, only as a lower rate",
            "samples_per_msg: IMU samples over the Zenoh messages that carried them (a batch is one message)",
            "*_us: µs CPU per delivered sample (all streams); sensor_sim and bridge: mean of vehicles; "
            "region_routers: their CPU summed over the samples they carried; path: bridges + routers + "
            "aggregator over every delivered sample; cpu_pct: every process, % of one core",
            "floor: a plain Zenoh publisher per vehicle (1 kHz IMU only, 316 B) in place of sensor_sim and "
            "the bridge; its bridge_us is the publisher's",
        ],
    )


def _targets(shipped: dict[str, Any], at_once: dict[str, Any], objects: dict[str, Any], shipped_ms: float,
             duration_s: float) -> list[Target]:
    """DESIGN.md's targets at the shipped default, and budget 0's latency when they differ;
    a level that is missing (it did not run) misses them."""
    nan = math.nan
    at = f"at {shipped_ms:g} ms (shipped): "
    rate = shipped.get("imu_rate_hz", 0.0)
    path = _ratio(shipped.get("path_us"), at_once.get("path_us"))
    sensor = _ratio(shipped.get("sensor_sim_us"), objects.get("sensor_sim_us"))
    bridge_us = shipped.get("bridge_us", nan)
    targets = [
        *latency_targets(shipped.get("p50_ms", nan), shipped.get("p99_ms", nan), latency_goal(shipped_ms), at),
        Target(f"{at}delivered Imu rate (lowest)", f">= {RATE_GOAL_HZ:g} Hz", f"{rate:.1f} Hz", rate >= RATE_GOAL_HZ),
        _loss_target(shipped, duration_s, at),
        Target(f"{at}path CPU per sample / budget 0's", f"<= {PATH_RATIO_GOAL:g}x", f"{path:.3f}x",
               path <= PATH_RATIO_GOAL),
        Target(f"{at}bridge CPU per sample (mean)", f"<= {e2e.BRIDGE_GOAL_US:g} us", f"{bridge_us:.0f} us",
               bridge_us <= e2e.BRIDGE_GOAL_US),
        Target(f"{at}sensor_sim CPU per sample, bytes / objects", f"<= {SENSOR_RATIO_GOAL:g}x", f"{sensor:.3f}x",
               sensor <= SENSOR_RATIO_GOAL),
    ]
    if shipped_ms > 0:  # at 0 the shipped targets above are budget 0's already
        targets += latency_targets(at_once.get("p50_ms", nan), at_once.get("p99_ms", nan), e2e.AT_ONCE_GOAL,
                                   "at 0 ms: ")
    return targets


def _loss_target(row: dict[str, Any], duration_s: float, prefix: str) -> Target:
    if not row:
        return Target(f"{prefix}loss over {duration_s:g} s (all streams, every hop)", "0", "not measured", False)
    return e2e.loss_target(row["lost"], row["lost_dds"], row["dropped_bridge"], duration_s, prefix)


def plot(axes: Any, result: BenchResult) -> None:
    """Latency (log) against path CPU per sample: p50 and p99 along the budgets, each point
    labelled with its budget; object payloads and the floor as markers of their own."""
    curve = sorted((r for r in result.rows if r["payload"] == Feed.BYTES.value), key=lambda r: r["budget_ms"])
    for column, colour in (("p50_ms", "tab:blue"), ("p99_ms", "tab:red")):
        xs, ys = [r["path_us"] for r in curve], [r[column] for r in curve]
        axes.plot(xs, ys, "o-", color=colour, label=f"{column.removesuffix('_ms')}, by IMU budget")
        for x, y, row in zip(xs, ys, curve, strict=True):
            axes.annotate(f"{row['budget_ms']:g} ms", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        for payload, marker in ((Feed.OBJECTS, "s"), (Feed.FLOOR, "*")):
            others = [r for r in result.rows if r["payload"] == payload.value]
            axes.scatter([r["path_us"] for r in others], [r[column] for r in others], marker=marker, color=colour,
                         s=80 if marker == "*" else 40, label=f"{column.removesuffix('_ms')}, {payload.value}")
    goals = ((e2e.AT_ONCE_GOAL, ":", "at 0 ms"), (e2e.BUDGETED_GOAL, "--", "budgeted"))
    for goal, style, label in goals:
        for name, goal_ms in (("p50", goal.p50_ms), ("p99", goal.p99_ms)):
            axes.axhline(goal_ms, color="grey", linestyle=style, linewidth=0.8)
            axes.text(1.0, goal_ms, f" {name} goal {label}", transform=axes.get_yaxis_transform(), fontsize=7,
                      color="grey", va="center")
    axes.set_yscale("log")
    axes.set_xlabel("path CPU per delivered sample, µs (bridges + routers + aggregator)")
    axes.set_ylabel("IMU latency, ms (log), worst vehicle")
    axes.legend(fontsize=8)
