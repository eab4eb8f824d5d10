"""`telemetry bench all --quick`: every benchmark runs and writes well-formed results.

A smoke run, not a measurement: it asserts the files and their shape, never a speed (the
figures are bench/README.md's business, from full runs). Brokers that are not installed are
skipped by the benchmark itself, with how to install them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.processes import ProcessGroup

BENCHMARKS = ("e2e", "floor", "brokers", "fanin", "size", "budget", "record", "ingest")
#: Each quick run is seconds of measurement plus process start-up (budget: 4 fleets, 7-10 s
#: each); generous for a busy CI machine.
TIMEOUT_S = 480
#: What a row of the budget curve holds (telemetry.bench.budget.level_row).
BUDGET_COLUMNS = {"budget_ms", "payload", "p50_ms", "p99_ms", "p99.9_ms", "imu_rate_hz", "lost", "lost_dds",
                  "dropped_bridge", "samples_per_msg", "sensor_sim_us", "bridge_us", "region_routers_us",
                  "cloud_router_us", "aggregator_us", "path_us", "cpu_pct"}


def test_bench_all_quick_writes_json_and_a_plot_for_every_benchmark(processes: ProcessGroup, tmp_path: Path) -> None:
    out = tmp_path / "results"
    bench = processes.start_module("telemetry.cli", "bench", "all", "--quick", "--out", str(out), name="bench")

    code = bench.wait_exit(TIMEOUT_S)

    assert code == 0, bench.output()
    for name in BENCHMARKS:
        data = json.loads((out / f"{name}.json").read_text())
        assert data["name"] == name and data["rows"], name
        assert data["machine"]["cpus"] >= 1 and data["started"]
        assert all(set(target) == {"name", "goal", "measured", "met"} for target in data["targets"]), name
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG", name
        assert "== " in bench.output()
    ingest = json.loads((out / "ingest.json").read_text())
    assert [(r["source"], r["samples"]) for r in ingest["rows"]] == [("bridged", 10_000), ("rmw_zenoh", 10_000)]
    e2e = json.loads((out / "e2e.json").read_text())
    assert sorted(row["vehicle"] for row in e2e["rows"]) == ["rover-01", "rover-02", "rover-03"]
    assert all(row["rate_hz"] > 0 and row["p50_ms"] > 0 for row in e2e["rows"])
    _check_budget(json.loads((out / "budget.json").read_text()))
    assert "summary.md" in {p.name for p in out.iterdir()}


def _check_budget(data: dict[str, Any]) -> None:
    """A row per level of the quick curve (budgets 0 and 2, the shipped default, objects, the
    floor), each with every column and figures that make sense, never a speed."""
    shipped_ms = data["params"]["shipped_imu_budget_ms"]
    levels = [(row["budget_ms"], row["payload"]) for row in data["rows"]]
    budgets = sorted({0.0, 2.0, shipped_ms})
    assert levels == [*((b, "bytes") for b in budgets), (shipped_ms, "objects"), (0.0, "floor")]
    for row in data["rows"]:
        assert set(row) == BUDGET_COLUMNS, row
        assert row["imu_rate_hz"] > 0 and row["p50_ms"] > 0 and row["samples_per_msg"] >= 1, row
        assert row["path_us"] > 0 and row["cloud_router_us"] > 0 and row["aggregator_us"] > 0, row
        assert (row["sensor_sim_us"] is None) == (row["payload"] == "floor"), row
