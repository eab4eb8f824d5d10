"""What a benchmark run found: rows, targets met or missed, and where it ran; as a table,
JSON and a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BenchResult", "Target", "machine", "table"]


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run (e.g. a broker not installed)


@dataclass
class BenchResult:
    name: str
    title: str
    rows: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # further tables, by title
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    machine: dict[str, Any] = field(default_factory=lambda: machine())

    def text(self) -> str:
        lines = [f"== {self.title}", table(self.rows)]
        for title, rows in self.tables.items():
            lines += ["", f"-- {title}", table(rows)]
        lines += [f"target {'MET   ' if t.met else 'missed' if t.met is False else 'n/a   '} {t.name}: "
                  f"{t.measured} (goal {t.goal})" for t in self.targets]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def write(self, out_dir: Path, plot: Callable[[Any, BenchResult], None] | None) -> list[Path]:
        """`<out>/<name>.json` and, with `plot(axes, result)`, `<out>/<name>.png`."""
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path = out_dir / f"{self.name}.json"
        data = _no_nan(asdict(self))
        json_path.write_text(json.dumps(data, indent=2, default=_plain, allow_nan=False) + "\n", encoding="utf-8")
        written = [json_path]
        if plot is not None and self.rows:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            figure, axes = plt.subplots(figsize=(9, 4.5), layout="constrained")
            plot(axes, self)
            axes.set_title(self.title)
            png_path = out_dir / f"{self.name}.png"
            figure.savefig(png_path, dpi=110)
            plt.close(figure)
            written.append(png_path)
        return written


def _plain(value: object) -> object:
    return str(value)


def _no_nan(value: Any) -> Any:
    """JSON has no NaN: an unknown figure (nothing arrived) is null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _no_nan(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(item) for item in value]
    return value


def table(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(r[i]) for r in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def machine() -> dict[str, Any]:
    model = ""
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    versions: dict[str, str | None] = {}  # None: not installed (null in the JSON)
    for package in ("eclipse-zenoh", "ros-jazzy-rclpy", "numpy", "pycdr2", "paho-mqtt", "nats-py"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "python": platform.python_version(), "versions": versions}
