"""Measure a running path: a probe on the cloud router, CPU of every process over the window."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from telemetry.bench.latency import StreamMeasure
from telemetry.bench.probe import LatencyProbe
from telemetry.bench.procstat import cpu_seconds
from telemetry.demo.supervisor import Child
from telemetry.net import BackgroundSession, SessionOptions

__all__ = ["PathRun", "measure_path"]


@dataclass(frozen=True)
class PathRun:
    streams: dict[str, StreamMeasure]  # by key
    cpu_s: dict[str, float]  # by process name, over the window
    window_s: float


def measure_path(
    cloud_endpoint: str, selector: str, children: Sequence[Child], warmup_s: float, duration_s: float
) -> PathRun:
    """Subscribe at the cloud router, let the path settle, then measure for `duration_s`."""
    options = SessionOptions(mode="client", connect=(cloud_endpoint,))
    with BackgroundSession(options, name="probe") as link:
        session = link.wait(30)
        if session is None:
            raise RuntimeError(f"the probe could not reach {cloud_endpoint}")
        with LatencyProbe(session, selector) as probe:
            time.sleep(warmup_s)
            before = {c.part.name: cpu_seconds(c.pid) for c in children}
            start = time.monotonic()
            probe.restart()
            time.sleep(duration_s)
            streams = probe.measure()
            window_s = time.monotonic() - start
            after = {c.part.name: cpu_seconds(c.pid) for c in children}
    return PathRun(streams, {name: after[name] - before[name] for name in before}, window_s)


def percentile_columns(measure: StreamMeasure) -> dict[str, float]:
    return {f"{name}_ms": round(value, 3) for name, value in measure.latency_ms.items()}
