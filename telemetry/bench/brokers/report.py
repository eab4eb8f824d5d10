"""The brokers benchmark's report: a window of records into one row per transport, the ratios
to Zenoh, the target, and the figure.

Latency is receive time minus the attachment's source time (one clock), pooled over the
publishers; loss is sequence gaps per publisher.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from telemetry.bench.brokers.processes import ZENOH
from telemetry.bench.brokers.subscribers import Record
from telemetry.bench.latency import StreamMeasure, measure_stream
from telemetry.bench.results import BenchResult, Target
from telemetry.codec.attachment import ATTACHMENT_DTYPE

__all__ = ["LATENCY_NAMES", "Window", "measure_records", "plot", "ratio_rows", "transport_row", "zenoh_ahead"]

LATENCY_NAMES = ("p50", "p90", "p99", "p99.9", "max")


@dataclass(frozen=True)
class Window:
    records: list[Record]
    window_s: float
    broker_cpu_s: float
    publishers_cpu_s: float
    subscriber_cpu_s: float  # this whole process: the subscriber's client threads and callbacks


def measure_records(records: Sequence[Record],
                    window_s: float) -> tuple[dict[str, StreamMeasure], StreamMeasure]:
    """Per topic (for rate and loss) and pooled over all topics (for the percentiles)."""
    by_topic: dict[str, list[Record]] = {}
    for record in records:
        by_topic.setdefault(record[0], []).append(record)
    streams = {topic: _measure(rows, window_s) for topic, rows in sorted(by_topic.items())}
    return streams, _measure(records, window_s)


def _measure(records: Sequence[Record], window_s: float) -> StreamMeasure:
    fields = np.frombuffer(b"".join(r[2] for r in records), dtype=ATTACHMENT_DTYPE)
    return measure_stream(np.array([r[1] for r in records], dtype=np.int64), fields["source_time_ns"],
                          fields["sequence"], np.array([r[3] for r in records], dtype=np.int64), window_s)


def transport_row(name: str, window: Window, expected_topics: Sequence[str]) -> dict[str, Any]:
    """One table row: pooled percentiles, the slowest publisher's delivered rate, total loss, CPU."""
    streams, pooled = measure_records(window.records, window.window_s)
    rate_hz = min(streams[t].rate_hz if t in streams else 0.0 for t in expected_topics)
    return {"transport": name, "samples": pooled.samples, "rate_hz": round(rate_hz, 1),
            "lost": sum(m.lost for m in streams.values()),
            **{f"{p}_ms": round(pooled.latency_ms[p], 3) for p in LATENCY_NAMES},
            **{f"{who}_cpu_pct": round(100 * cpu_s / window.window_s, 1) for who, cpu_s in
               (("broker", window.broker_cpu_s), ("publishers", window.publishers_cpu_s),
                ("subscriber", window.subscriber_cpu_s))}}


def ratio_rows(rows: Sequence[dict[str, Any]], reference: str = ZENOH.name) -> list[dict[str, Any]]:
    """Each other transport's percentiles divided by the reference's (> 1: the reference is faster)."""
    base = next((row for row in rows if row["transport"] == reference), None)
    if base is None:
        return []
    return [{"transport": row["transport"], **{p: _ratio(row[f"{p}_ms"], base[f"{p}_ms"]) for p in LATENCY_NAMES}}
            for row in rows if row is not base]


def _ratio(value_ms: float, base_ms: float) -> float:
    return round(value_ms / base_ms, 2) if base_ms > 0 and not math.isnan(value_ms) else math.nan


def zenoh_ahead(ratios: Sequence[dict[str, Any]]) -> Target:
    """The issue's target: Zenoh faster at every percentile than every other transport measured."""
    cells = [(r[p], r["transport"], p) for r in ratios for p in LATENCY_NAMES]
    name, goal = "Zenoh ahead of MQTT and NATS at every percentile", "every ratio to Zenoh > 1"
    if not cells or any(math.isnan(value) for value, _, _ in cells):
        return Target(name, goal, "not measured", None)
    value, transport, percentile = min(cells)
    return Target(name, goal, f"lowest ratio {value:.2f}x ({transport} {percentile})", value > 1.0)


def plot(axes: Any, result: BenchResult) -> None:
    """Grouped bars: one group per percentile, one bar per transport; log scale."""
    width = 0.8 / len(result.rows)
    for index, row in enumerate(result.rows):
        positions = [i + (index - (len(result.rows) - 1) / 2) * width for i in range(len(LATENCY_NAMES))]
        axes.bar(positions, [row[f"{p}_ms"] for p in LATENCY_NAMES], width, label=row["transport"])
    axes.set_xticks(range(len(LATENCY_NAMES)), list(LATENCY_NAMES))
    axes.set_yscale("log")
    axes.set_ylabel("latency, ms (log)")
    axes.legend()
