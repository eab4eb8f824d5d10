"""`telemetry bench <name>`: run, print the table, write JSON and PNG to the output folder."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from telemetry.bench.results import BenchResult

__all__ = ["ALL", "BENCHMARKS", "run_benchmarks"]


@dataclass(frozen=True)
class Benchmark:
    module: str  # telemetry.bench.<module> has run(duration_s, log_dir=..., warmup_s=...) and plot(axes, result)
    duration_s: float  # default measured window
    quick_s: float
    in_all: bool = True  # part of `telemetry bench all`
    #: More keyword arguments for run() in a --quick run: fewer levels, so a smoke run stays short.
    quick_options: Mapping[str, Any] = field(default_factory=dict)

    def load(self) -> tuple[Callable[..., BenchResult], Callable[[Any, BenchResult], None]]:
        module = importlib.import_module(f"telemetry.bench.{self.module}")
        return module.run, module.plot


_TABLE = {
    "e2e": Benchmark("e2e", 60.0, 3.0),
    "floor": Benchmark("floor", 30.0, 2.0),
    "brokers": Benchmark("brokers", 20.0, 2.0),
    "fanin": Benchmark("fanin", 10.0, 2.0),
    "size": Benchmark("size", 10.0, 2.0),
    # Seconds per level: 6 budgets, the shipped one with object payloads, the floor (quick: budgets 0 and 2).
    "budget": Benchmark("budget", 20.0, 2.0, quick_options={"budgets_ms": (0.0, 2.0)}),
    "record": Benchmark("record", 10.0, 2.0),
    "ingest": Benchmark("ingest", 10.0, 1.0),
    "soak": Benchmark("soak", 1800.0, 10.0, in_all=False),
}
BENCHMARKS = tuple(_TABLE)
#: What `telemetry bench all` runs: everything but the 30-minute soak.
ALL = tuple(name for name, bench in _TABLE.items() if bench.in_all)


def run_benchmarks(names: list[str], duration_s: float | None, quick: bool, out_dir: Path,
                   out: TextIO = sys.stdout) -> int:
    done: dict[str, BenchResult] = {}
    for name in names:
        bench = _TABLE[name]
        run, plot = bench.load()
        seconds = duration_s if duration_s is not None else bench.quick_s if quick else bench.duration_s
        print(f"-- running {name} ({seconds:g} s measured)", file=out, flush=True)
        kwargs: dict[str, Any] = {"log_dir": out_dir / "logs" / name}
        if quick:
            kwargs.update(warmup_s=1.0, **bench.quick_options)
        if name == "floor" and "e2e" in done:
            kwargs["e2e_result"] = done["e2e"]
        result = run(seconds, **kwargs)
        done[name] = result
        written = result.write(out_dir, plot)
        print(result.text(), file=out)
        print("wrote " + ", ".join(str(p) for p in written), file=out, flush=True)
    summary = out_dir / "summary.md"
    summary.write_text(markdown(list(done.values())), encoding="utf-8")
    print(f"wrote {summary}", file=out)
    return 0


def markdown(results: list[BenchResult]) -> str:
    """Each result's table and targets as Markdown, with its plot: the raw material of bench/README.md."""
    parts = []
    for result in results:
        parts.append(f"## {result.title}\n\nRun {result.started}, {result.params}.\n")
        parts.append("```\n" + result.text() + "\n```\n")
        parts.append(f"![{result.name}]({result.name}.png)\n")
    return "\n".join(parts)
