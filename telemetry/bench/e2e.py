"""e2e: the real pipeline. sensor_sim (1 kHz Imu, with odom, gnss, battery) → zenoh_bridge →
regional router → cloud router → a measuring subscriber, 3 vehicles running, all on loopback.

Latency is the subscriber's receive time minus the Imu's header stamp (sensor_sim stamps at
publish), so it covers DDS, the bridge, two routers and the subscriber's own callback. CPU
per sample divides each process's CPU seconds over the window by the samples that crossed it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telemetry.bench.network import BenchFleet
from telemetry.bench.paths import PathRun, measure_path, percentile_columns
from telemetry.bench.results import BenchResult, Target

__all__ = ["plot", "run"]

VEHICLES = 3


def run(duration_s: float, log_dir: Path | None = None, warmup_s: float = 3.0) -> BenchResult:
    with BenchFleet(VEHICLES, log_dir) as net:
        net.start_routers()
        net.start_vehicles()
        measured = measure_path(net.cloud_endpoint, f"{net.fleet.key_root}/data/**",
                                net.supervisor.children, warmup_s, duration_s)
        regions = {v.name: v.region for v in net.fleet.vehicles}
    return _result(measured, regions, duration_s)


def _result(run: PathRun, regions: dict[str, str], duration_s: float) -> BenchResult:
    imu = {key.split("/")[3]: m for key, m in run.streams.items() if key.endswith("/imu")}
    rows = [{"vehicle": vehicle, "rate_hz": round(m.rate_hz, 1), "lost": m.lost, **percentile_columns(m)}
            for vehicle, m in sorted(imu.items())]
    per_vehicle = {}
    for key, m in run.streams.items():
        vehicle = key.split("/")[3]
        per_vehicle[vehicle] = per_vehicle.get(vehicle, 0) + m.samples
    cost = _cost(run, per_vehicle, regions)
    worst = {name: max(m.latency_ms[name] for m in imu.values()) for name in ("p50", "p99")} if imu else {}
    bridge_us = max((row["us_per_sample"] for row in cost if row["process"].endswith("zenoh_bridge")), default=0.0)
    lost = sum(m.lost for m in run.streams.values())
    rate = min((m.rate_hz for m in imu.values()), default=0.0)
    targets = [
        Target("e2e p50 (worst vehicle)", "<= 1 ms", f"{worst.get('p50', float('nan')):.3f} ms",
               worst.get("p50", 99) <= 1.0),
        Target("e2e p99 (worst vehicle)", "<= 3 ms", f"{worst.get('p99', float('nan')):.3f} ms",
               worst.get("p99", 99) <= 3.0),
        Target("delivered Imu rate (lowest)", ">= 995 Hz", f"{rate:.1f} Hz", rate >= 995),
        Target(f"loss over {duration_s:g} s (all streams)", "0", str(lost), lost == 0),
        Target("bridge CPU per forwarded sample (worst)", "<= 100 us", f"{bridge_us:.0f} us", bridge_us <= 100),
    ]
    return BenchResult("e2e", f"e2e: sensor_sim -> bridge -> 2 routers -> subscriber, {VEHICLES} vehicles",
                       rows, params={"duration_s": duration_s, "vehicles": VEHICLES, "window_s": run.window_s},
                       targets=targets, tables={"CPU per process over the window": cost})


def _cost(run: PathRun, per_vehicle: dict[str, int], regions: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    total = sum(per_vehicle.values())
    for name, cpu_s in sorted(run.cpu_s.items()):
        owner = name.split(" ")[0]
        if owner in per_vehicle:
            samples = per_vehicle[owner]
        elif name == "cloud router":
            samples = total
        else:  # a regional router carries its vehicles' samples
            samples = sum(n for vehicle, n in per_vehicle.items() if regions.get(vehicle) == owner)
        rows.append({"process": name, "cpu_pct": round(100 * cpu_s / run.window_s, 1), "samples": samples,
                     "us_per_sample": round(1e6 * cpu_s / samples, 1) if samples else 0.0})
    return rows


def plot(axes: Any, result: BenchResult) -> None:
    names = [key for key in result.rows[0] if key.endswith("_ms")]
    width = 0.8 / len(result.rows)
    for index, row in enumerate(result.rows):
        axes.bar([i + index * width for i in range(len(names))], [row[n] for n in names], width, label=row["vehicle"])
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], [n.removesuffix("_ms") for n in names])
    axes.set_yscale("log")
    axes.set_ylabel("latency, ms (log)")
    axes.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    axes.axhline(3.0, color="red", linestyle=":", linewidth=1)
    axes.legend()
