"""`telemetry bench all --quick`: every benchmark runs and writes well-formed results.

A smoke run, not a measurement: it asserts the files and their shape, never a speed (the
figures are bench/README.md's business, from full runs). Brokers that are not installed are
skipped by the benchmark itself, with how to install them.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.processes import ProcessGroup

BENCHMARKS = ("e2e", "floor", "brokers", "fanin", "size")
#: Each quick run is seconds of measurement plus process start-up; generous for a busy CI machine.
TIMEOUT_S = 420


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
    e2e = json.loads((out / "e2e.json").read_text())
    assert sorted(row["vehicle"] for row in e2e["rows"]) == ["rover-01", "rover-02", "rover-03"]
    assert all(row["rate_hz"] > 0 and row["p50_ms"] > 0 for row in e2e["rows"])
    assert "summary.md" in {p.name for p in out.iterdir()}
