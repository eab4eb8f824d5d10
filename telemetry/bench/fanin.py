"""fanin: N synthetic vehicles x M streams at 1 kHz into one aggregator, single samples and
batched: the largest N x M it keeps up with, and what that costs it in CPU and memory.

Blasters (telemetry.bench.blaster, no ROS) put real samples with real attachments, or real
msg/SampleBatch (on the stream's data key, as the bridge does), through one router, with
congestion control BLOCK: a chain that cannot keep up slows the blasters down instead of
dropping, so "sent" shows it. A level is kept up when the blasters sent >= 99 % of the
offered rate, the aggregator's own FleetStatus.samples_per_s is >= 99 % of that, and its
ticks stayed on time (every interval <= 0.75 s for a 0.5 s tick). Levels grow until one is
not kept up. The aggregator's RSS is sampled every 0.5 s of the measurement: the largest
value is what DESIGN.md's "RSS <= 200 MB at 1 000 streams" is checked against.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telemetry.bench.blaster import blaster_part, stop_blaster
from telemetry.bench.network import BenchFleet
from telemetry.bench.procstat import cpu_seconds, rss_mb
from telemetry.bench.results import BenchResult, Target
from telemetry.codec import TypeStore
from telemetry.codec.names import FLEET_STATUS
from telemetry.demo.plan import Part, PartKind, router_parts
from telemetry.net import BackgroundSession, SessionOptions
from telemetry.net.declarations import undeclare_all

__all__ = ["plot", "run"]

RATE_HZ = 1000.0
BLASTERS = 2
BATCH = 50
#: (vehicles, streams per vehicle) levels; per mode, tried in order until one is not kept up.
SINGLE_LEVELS = ((10, 10), (20, 10), (30, 10), (40, 10))
BATCHED_LEVELS = ((20, 10), (50, 10), (80, 10), (100, 10), (150, 10))  # 100 x 10 x 1 kHz: the 1 M/s target
QUICK_LEVELS = ((2, 5),)
#: DESIGN.md's memory target is for this many streams.
FLEET_STREAMS = 1000


@dataclass(frozen=True)
class Level:
    mode: str
    vehicles: int
    streams_per_vehicle: int

    @property
    def offered(self) -> float:
        return self.vehicles * self.streams_per_vehicle * RATE_HZ


def run(duration_s: float, log_dir: Path | None = None, warmup_s: float = 3.0) -> BenchResult:
    quick = duration_s < 5
    rows: list[dict[str, Any]] = []
    store = TypeStore.from_environment()
    for mode in ("single", "batched"):
        levels = QUICK_LEVELS if quick else SINGLE_LEVELS if mode == "single" else BATCHED_LEVELS
        for vehicles, streams in levels:
            row = _run_level(Level(mode, vehicles, streams), duration_s, warmup_s, log_dir, store, quick)
            rows.append(row)
            if not row["kept_up"]:
                break
    best = {mode: max((r["delivered_per_s"] for r in rows if r["mode"] == mode and r["kept_up"]), default=0.0)
            for mode in ("single", "batched")}
    at_scale = max((r["aggregator_rss_max_mb"] for r in rows if r["streams"] == FLEET_STREAMS), default=None)
    return BenchResult(
        "fanin", f"fanin: synthetic vehicles x streams at {RATE_HZ:g} Hz into one aggregator", rows,
        params={"duration_s": duration_s, "rate_hz": RATE_HZ, "blasters": BLASTERS, "batch": BATCH},
        targets=[
            Target("aggregator, single samples (largest level kept up)", ">= 200000 samples/s",
                   f"{best['single']:.0f} samples/s", None if quick else best["single"] >= 200_000),
            Target("aggregator, batched (largest level kept up)", ">= 1000000 samples/s",
                   f"{best['batched']:.0f} samples/s", None if quick else best["batched"] >= 1_000_000),
            Target(f"aggregator RSS at {FLEET_STREAMS} streams (largest seen)", "<= 200 MB",
                   "no level ran" if at_scale is None else f"{at_scale:.0f} MB",
                   None if quick or at_scale is None else at_scale <= 200),
        ],
        notes=["levels stop at the first one not kept up; quick runs use one small level (no verdict)"],
    )


def _run_level(level: Level, duration_s: float, warmup_s: float, log_dir: Path | None, store: TypeStore,
               quick: bool) -> dict[str, Any]:
    folder = None if log_dir is None else log_dir / f"{level.mode}-{level.vehicles}x{level.streams_per_vehicle}"
    window_s = 1.0 if quick else 5.0
    with BenchFleet(1, folder) as net:
        cloud = router_parts(net.fleet)[0]
        router = net.start(cloud, " listening on ")
        aggregator = net.start(Part("aggregator", PartKind.AGGREGATOR,
                                    ("-e", net.cloud_endpoint, "--window", f"{window_s:g}")), " ready")
        blasters = [net.start(_blaster(net.cloud_endpoint, level, index), "blaster ready") for index in range(BLASTERS)]
        statuses = _FleetWatch(net.cloud_endpoint, store)
        try:
            statuses.wait_for_streams(level.vehicles * level.streams_per_vehicle, 30)
            time.sleep(window_s + warmup_s)
            before = {c.part.name: cpu_seconds(c.pid) for c in (aggregator, router, *blasters)}
            start = time.monotonic()
            statuses.restart()
            rss_seen = _watch_rss(aggregator.pid, duration_s)
            window = statuses.restart()
            elapsed = time.monotonic() - start
            cpu = {name: (cpu_seconds(pid) - before[name]) / elapsed
                   for name, pid in ((c.part.name, c.pid) for c in (aggregator, router, *blasters))}
            rss = rss_mb(aggregator.pid)
        finally:
            statuses.close()
        sent = sum(count / seconds for count, seconds in map(stop_blaster, blasters) if seconds > 0)
    delivered = sum(s for _, s in window) / len(window) if window else 0.0
    intervals = [b - a for (a, _), (b, _) in itertools.pairwise(window)]
    on_time = bool(intervals) and max(intervals) <= 0.75
    kept_up = sent >= 0.99 * level.offered and delivered >= 0.99 * sent and on_time
    return {
        "mode": level.mode, "vehicles": level.vehicles, "streams": level.vehicles * level.streams_per_vehicle,
        "offered_per_s": level.offered, "sent_per_s": round(sent), "delivered_per_s": round(delivered),
        "kept_up": kept_up, "aggregator_cpu_pct": round(100 * cpu["aggregator"], 1),
        "samples_per_cpu_s": round(delivered / cpu["aggregator"]) if cpu["aggregator"] > 0 else math.nan,
        "aggregator_rss_mb": round(rss, 1), "aggregator_rss_max_mb": round(max(rss_seen, default=rss), 1),
        "max_tick_interval_s": round(max(intervals, default=math.nan), 3),
    }


def _watch_rss(pid: int, duration_s: float) -> list[float]:
    """Wait `duration_s`, reading the process's RSS (MB) every 0.5 s."""
    seen: list[float] = []
    deadline = time.monotonic() + duration_s
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(0.5, left))
        seen.append(rss_mb(pid))
    return seen


def _blaster(endpoint: str, level: Level, index: int) -> Part:
    return blaster_part(endpoint, f"p{index}", max(1, level.vehicles // BLASTERS), level.streams_per_vehicle,
                        RATE_HZ, BATCH if level.mode == "batched" else 0)


class _FleetWatch:
    """The aggregator's FleetStatus as it is published: (arrival time, samples_per_s, streams)."""

    def __init__(self, endpoint: str, store: TypeStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._seen: list[tuple[float, float]] = []
        self._streams = 0
        self._link = BackgroundSession(SessionOptions(mode="client", connect=(endpoint,)), name="fanin").start()
        session = self._link.wait(30)
        if session is None:
            raise RuntimeError(f"cannot reach {endpoint}")
        self._subscriber = session.declare_subscriber("telemetry/fleet", self._record)

    def _record(self, sample: Any) -> None:
        status = self._store.decode(FLEET_STATUS, sample.payload.to_bytes())
        with self._lock:
            self._seen.append((time.monotonic(), float(status.samples_per_s)))
            self._streams = int(status.streams)

    def wait_for_streams(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._streams >= count:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the aggregator saw {self._streams} of {count} streams after {timeout_s:g} s")

    def restart(self) -> list[tuple[float, float]]:
        with self._lock:
            seen, self._seen = self._seen, []
        return seen

    def close(self) -> None:
        undeclare_all([self._subscriber])
        self._link.close()


def plot(axes: Any, result: BenchResult) -> None:
    for mode, marker in (("single", "o"), ("batched", "s")):
        rows = [r for r in result.rows if r["mode"] == mode]
        axes.plot([r["offered_per_s"] for r in rows], [r["delivered_per_s"] for r in rows], marker=marker,
                  label=f"{mode} samples")
    top = max((r["offered_per_s"] for r in result.rows), default=1.0)
    axes.plot([0, top], [0, top], color="grey", linestyle=":", linewidth=1, label="keeping up")
    axes.set_xlabel("offered samples/s")
    axes.set_ylabel("aggregated samples/s")
    axes.legend()
