"""Benchmark results: the printed table, the JSON and the PNG a run writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from telemetry.bench.results import BenchResult, Target, table


def _result() -> BenchResult:
    return BenchResult(
        "demo", "a demo result",
        rows=[{"vehicle": "rover-01", "p50_ms": 0.3412, "rate_hz": 1000.0}, {"vehicle": "rover-02", "p50_ms": 0.5}],
        targets=[Target("p50", "<= 1 ms", "0.50 ms", True), Target("broker", "ahead", "not installed", None)],
        tables={"cost": [{"process": "router", "cpu_pct": 7.1}]},
    )


def test_the_table_aligns_columns_and_shows_missing_cells_empty() -> None:
    assert table([{"a": 1, "bb": 0.12345}, {"a": 22}]).splitlines() == ["a   bb", "1   0.1235", "22"]


def test_the_text_lists_every_table_and_each_target_as_met_missed_or_not_measured() -> None:
    text = _result().text()
    assert "== a demo result" in text and "-- cost" in text
    assert "target MET    p50: 0.50 ms (goal <= 1 ms)" in text
    assert "target n/a    broker: not installed (goal ahead)" in text


def test_write_puts_json_with_the_machine_and_a_png_in_the_folder(tmp_path: Path) -> None:
    def plot(axes: Any, result: BenchResult) -> None:
        axes.plot([1, 2], [r["p50_ms"] for r in result.rows])

    written = _result().write(tmp_path / "out", plot)
    assert [p.name for p in written] == ["demo.json", "demo.png"]
    data = json.loads(written[0].read_text())
    assert data["rows"][0]["vehicle"] == "rover-01"
    assert data["targets"][0] == {"name": "p50", "goal": "<= 1 ms", "measured": "0.50 ms", "met": True}
    assert data["machine"]["cpus"] >= 1 and "eclipse-zenoh" in data["machine"]["versions"]
    assert written[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
