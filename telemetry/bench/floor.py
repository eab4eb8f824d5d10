"""floor: the same hops and payload bytes with no ROS and no bridge logic. A plain Zenoh
publisher per vehicle (1 kHz, 316 B, the bridge's Imu settings) → regional router → cloud
router → the same measuring subscriber, with the aggregator on the cloud router as in e2e
(so both load the machine alike). e2e / floor per percentile is the bridge's (and ROS's)
real overhead; both are measured in this run, one after the other.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from telemetry.bench import e2e
from telemetry.bench.network import BenchFleet
from telemetry.bench.pathcost import process_rows
from telemetry.bench.paths import percentile_columns
from telemetry.bench.results import BenchResult, Target
from telemetry.demo.plan import Part, PartKind
from telemetry.keys import KeySpace

__all__ = ["plot", "publisher_part", "run", "start_publishers"]

IMU_BYTES = 316


def publisher_part(name: str, endpoint: str, key: str, rate_hz: float = 1000.0, size: int = IMU_BYTES) -> Part:
    args = ("--connect", endpoint, "--key", key, "--rate-hz", f"{rate_hz:g}", "--size", str(size))
    return Part(name, PartKind.TOOL, args, tool_module="telemetry.bench.publisher")


def start_publishers(net: BenchFleet) -> None:
    """One plain publisher per vehicle, on that vehicle's IMU key, at its region's router: the
    vehicle's place on the path with no ROS and no bridge."""
    for vehicle in net.fleet.vehicles:
        key = KeySpace(net.fleet.key_root).data(vehicle.region, vehicle.name, e2e.IMU_TOPIC)
        region = net.fleet.region(vehicle.region).router.listen[0]
        net.start(publisher_part(f"{vehicle.name} publisher", region, key), "publisher ready")


def run(duration_s: float, e2e_result: BenchResult | None = None, log_dir: Path | None = None,
        warmup_s: float = 3.0) -> BenchResult:
    if e2e_result is None:
        e2e_result = e2e.run(duration_s, log_dir, warmup_s)
    measured = e2e.measure_fleet(duration_s, warmup_s, log_dir, sources=start_publishers)
    rows = [{"vehicle": vehicle, "rate_hz": round(m.rate_hz, 1), "lost": m.lost, **percentile_columns(m)}
            for vehicle, m in measured.imu().items()]
    ratios = _ratios(e2e_result.rows, rows)
    cost = process_rows(measured.path.cpu_s, measured.path.window_s, measured.samples_by_vehicle(), measured.regions)
    p50 = next((r for r in ratios if r["percentile"] == "p50"), {})
    return BenchResult(
        "floor", "floor: plain Zenoh publisher -> 2 routers -> aggregator and subscriber, vs e2e", rows,
        params={"duration_s": duration_s, "payload_bytes": IMU_BYTES, "rate_hz": 1000},
        targets=[Target("e2e / floor at p50", "reported (the bridge's overhead)",
                        f"{p50.get('e2e_over_floor', math.nan):.2f}x", None)],
        tables={"e2e / floor, median over vehicles": ratios, "CPU per process (floor)": cost},
    )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else math.nan


def _ratios(e2e_rows: list[dict[str, Any]], floor_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    columns = [c for c in (e2e_rows[0] if e2e_rows else {}) if c.endswith("_ms")]
    ratios = []
    for column in columns:
        e2e_ms = _median([row[column] for row in e2e_rows])
        floor_ms = _median([row[column] for row in floor_rows if column in row])
        ratios.append({"percentile": column.removesuffix("_ms"), "e2e_ms": e2e_ms, "floor_ms": floor_ms,
                       "e2e_over_floor": round(e2e_ms / floor_ms, 2) if floor_ms else math.nan})
    return ratios


def plot(axes: Any, result: BenchResult) -> None:
    ratios = result.tables["e2e / floor, median over vehicles"]
    names = [r["percentile"] for r in ratios]
    positions = range(len(names))
    axes.bar([p - 0.2 for p in positions], [r["floor_ms"] for r in ratios], 0.4, label="floor (plain Zenoh)")
    axes.bar([p + 0.2 for p in positions], [r["e2e_ms"] for r in ratios], 0.4, label="e2e (ROS + bridge)")
    axes.set_xticks(list(positions), names)
    axes.set_yscale("log")
    axes.set_ylabel("latency, ms (log)")
    axes.legend()
