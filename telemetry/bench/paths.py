"""Measure a running path: a probe on the cloud router, CPU of every process over the window,
and, for a fleet's bridges, what they counted as lost before them."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from telemetry.bench.health_watch import HealthWatch
from telemetry.bench.latency import StreamMeasure
from telemetry.bench.probe import LatencyProbe
from telemetry.bench.procstat import cpu_seconds
from telemetry.demo.supervisor import Child
from telemetry.fleet.hops import HopStats
from telemetry.keys import KeySpace
from telemetry.net import BackgroundSession, SessionOptions

__all__ = ["PathRun", "measure_path"]

_log = logging.getLogger(__name__)
#: How long the sources may take to deliver their first samples (DDS discovery on a busy host).
FLOWING_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class PathRun:
    streams: dict[str, StreamMeasure]  # by key
    cpu_s: dict[str, float]  # by process name, over the window
    window_s: float
    messages: dict[str, int] = field(default_factory=dict)  # by data key: messages that carried its samples
    hops: dict[str, HopStats] = field(default_factory=dict)  # by data key, from the bridges' health reports


def measure_path(
    cloud_endpoint: str, selector: str, children: Sequence[Child], warmup_s: float, duration_s: float,
    health: KeySpace | None = None, expect: Collection[str] = (),
) -> PathRun:
    """Subscribe at the cloud router, let the path settle, then measure for `duration_s`.

    `health`: the fleet's key space, to read its bridges' health reports over the window too.
    `expect`: keys that must have delivered before the warm-up starts: a bridge is up before
    DDS has matched it with its sensor, so a fixed warm-up alone may measure a silent vehicle."""
    options = SessionOptions(mode="client", connect=(cloud_endpoint,))
    with BackgroundSession(options, name="probe") as link:
        session = link.wait(30)
        if session is None:
            raise RuntimeError(f"the probe could not reach {cloud_endpoint}")
        with LatencyProbe(session, selector) as probe, contextlib.ExitStack() as stack:
            watch = stack.enter_context(HealthWatch(session, health)) if health is not None else None
            _wait_flowing(probe, expect)
            time.sleep(warmup_s)
            before = {c.part.name: cpu_seconds(c.pid) for c in children}
            start, start_ns = time.monotonic(), time.time_ns()
            probe.restart()
            time.sleep(duration_s)
            after = {c.part.name: cpu_seconds(c.pid) for c in children}  # before take(): its parsing is not the path's
            window_s, end_ns = time.monotonic() - start, time.time_ns()
            window = probe.take()
            hops = watch.hops(start_ns, end_ns) if watch is not None else {}
    return PathRun(window.streams, {name: after[name] - before[name] for name in before}, window_s, window.messages,
                   hops)


def _wait_flowing(probe: LatencyProbe, expect: Collection[str], timeout_s: float = FLOWING_TIMEOUT_S) -> None:
    """Until every key in `expect` has delivered a sample (what arrives now is warm-up); after
    `timeout_s` the run goes on, and the silent stream shows in its figures."""
    missing = set(expect)
    deadline = time.monotonic() + timeout_s
    while missing and time.monotonic() < deadline:
        time.sleep(0.2)
        missing -= set(probe.take().streams)
    if missing:
        _log.warning("no sample after %g s from %s: measuring anyway", timeout_s, ", ".join(sorted(missing)))


def percentile_columns(measure: StreamMeasure) -> dict[str, float]:
    return {f"{name}_ms": round(value, 3) for name, value in measure.latency_ms.items()}
