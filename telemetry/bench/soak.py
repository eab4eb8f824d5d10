"""soak: the demo fleet (3 vehicles, 3 routers, the aggregator) left running for a long time,
to find what only time shows: slow leaks, drifting rates, loss that comes once an hour.

Every `interval_s` (a minute in a full run) it samples each process's RSS from /proc and the
aggregator's latest stats (as the dashboard reads them). Loss counts from the first sample,
so samples that Zenoh dropped while routes were still forming do not count. A process whose
RSS grows by more than `RSS_GROWTH_BOUND_MB` between the first and the last sample is called
out, and so is any stream that left 95..105 % of its rate in any sample.

Not part of `telemetry bench all`: a full run takes 30 minutes (`telemetry bench soak`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telemetry.bench.network import BenchFleet
from telemetry.bench.procstat import rss_mb
from telemetry.bench.results import BenchResult, Target
from telemetry.codec import TypeStore
from telemetry.dashboard.source import ZenohFleetSource
from telemetry.dashboard.state import FleetState, StateSettings
from telemetry.dashboard.view import FleetView, nan_max, nan_min
from telemetry.demo.supervisor import Child
from telemetry.keys import KeySpace
from telemetry.net import SessionOptions

__all__ = ["RSS_GROWTH_BOUND_MB", "SoakSample", "plot", "rate_slack", "rss_growth", "run", "soak_result"]

VEHICLES = 3
#: Largest RSS growth of any one process, first sample to last, that still counts as steady.
RSS_GROWTH_BOUND_MB = 20.0
RATE_TOLERANCE = 0.05


@dataclass(frozen=True)
class SoakSample:
    """One look at the fleet: `at_s` after the first sample."""

    at_s: float
    rss_mb: dict[str, float]  # by process name
    rate_ratio: dict[str, float]  # by "<region>/<vehicle> <topic>"
    rate_slack: dict[str, float]  # by stream: how far from 1.0 its ratio may be
    lost_total: dict[str, int]  # by stream, the aggregator's running count
    imu_p99_ms: float  # worst vehicle's Imu p99 over the aggregator's window
    stats_age_s: float | None
    exited: tuple[str, ...]  # processes gone since the previous sample


def run(duration_s: float, log_dir: Path | None = None, warmup_s: float = 10.0) -> BenchResult:
    interval_s = 60.0 if duration_s >= 600 else max(1.0, duration_s / 5)
    with BenchFleet(VEHICLES, log_dir) as net:
        net.start_routers()
        net.start_aggregator()
        net.start_vehicles()
        state = FleetState(StateSettings(thresholds=net.fleet.alerts))
        source = ZenohFleetSource(SessionOptions(mode="client", connect=(net.cloud_endpoint,)),
                                  KeySpace(net.fleet.key_root), TypeStore.from_environment(), state)
        source.start()
        try:
            time.sleep(warmup_s)
            samples = _sample_for(net, source, duration_s, interval_s)
        finally:
            source.close()
    return soak_result(samples, duration_s, interval_s)


def _sample_for(net: BenchFleet, source: ZenohFleetSource, duration_s: float, interval_s: float) -> list[SoakSample]:
    start = time.monotonic()
    samples: list[SoakSample] = []
    while True:
        exited = tuple(f"{c.part.name} (pid {c.pid}) exit {c.process.returncode}" for c in net.supervisor.exited())
        samples.append(_sample(time.monotonic() - start, net.supervisor.children, source.collect(), exited))
        next_at = start + len(samples) * interval_s
        if next_at > start + duration_s + 1e-6:
            return samples
        time.sleep(max(0.0, next_at - time.monotonic()))


def _sample(at_s: float, children: list[Child], view: FleetView, exited: tuple[str, ...]) -> SoakSample:
    streams = [(f"{v.key} {s.topic}", s) for v in view.vehicles for s in v.streams]
    imu = [s.latency_p99_ms for _, s in streams if s.topic == "/imu"]
    return SoakSample(
        at_s=at_s,
        rss_mb={c.part.name: round(rss_mb(c.pid), 1) for c in children},
        rate_ratio={name: s.rate_ratio for name, s in streams},
        rate_slack={name: rate_slack(s.expected_hz, s.window_s) for name, s in streams},
        lost_total={name: s.lost_total for name, s in streams},
        imu_p99_ms=nan_max(imu),
        stats_age_s=view.connection.last_stats_age_s,
        exited=exited,
    )


def rate_slack(expected_hz: float, window_s: float) -> float:
    """5 %, or one sample either way where a window holds few: a 1 Hz stream counts 4, 5
    or 6 samples in 5 s as its samples drift across the window's edges (80..120 %)."""
    expected_count = expected_hz * window_s
    if not expected_count > 0:
        return RATE_TOLERANCE
    return max(RATE_TOLERANCE, 1.0 / expected_count)


def rss_growth(samples: list[SoakSample]) -> dict[str, float]:
    """Per process, last RSS minus first, in MB (a process gone by the end counts from its last sample)."""
    first, last = samples[0].rss_mb, samples[-1].rss_mb
    return {name: round(last.get(name, 0.0) - first[name], 1) for name in first if last.get(name, 0.0) > 0}


def soak_result(samples: list[SoakSample], duration_s: float, interval_s: float) -> BenchResult:
    """Pure: the samples in, the table and the verdicts out."""
    first = samples[0]
    rows = []
    for sample in samples:
        lost_so_far = sum(n - first.lost_total.get(name, n) for name, n in sample.lost_total.items())
        rows.append({
            "minute": round(sample.at_s / 60, 2),
            "streams": len(sample.rate_ratio),
            "rate_ratio_min": round(nan_min(list(sample.rate_ratio.values())), 4),
            "rate_ratio_max": round(nan_max(list(sample.rate_ratio.values())), 4),
            "lost_since_start": lost_so_far,
            "imu_p99_ms": round(sample.imu_p99_ms, 3),
            "rss_total_mb": round(sum(sample.rss_mb.values()), 1),
        })
    growth = rss_growth(samples)
    processes = [{"process": name, "rss_first_mb": first.rss_mb[name],
                  "rss_max_mb": max(s.rss_mb.get(name, 0.0) for s in samples),
                  "rss_last_mb": samples[-1].rss_mb.get(name, 0.0), "growth_mb": growth.get(name, math.nan)}
                 for name in sorted(first.rss_mb)]
    off_rate = [(row["minute"], name, ratio) for sample, row in zip(samples, rows, strict=True)
                for name, ratio in sample.rate_ratio.items()
                if math.isnan(ratio) or abs(ratio - 1) > sample.rate_slack.get(name, RATE_TOLERANCE) + 1e-9]
    lost = rows[-1]["lost_since_start"]
    exited = [line for sample in samples for line in sample.exited]
    worst_growth = nan_max(list(growth.values()))
    expected_streams = len(first.rate_ratio)
    notes = [f"off rate at minute {minute:g}: {name} at {ratio:.1%}" for minute, name, ratio in off_rate[:20]]
    notes += [f"exited: {line}" for line in exited]
    return BenchResult(
        "soak",
        f"soak: the demo fleet ({VEHICLES} vehicles) for {duration_s / 60:g} min, sampled every {interval_s:g} s",
        rows, params={"duration_s": duration_s, "interval_s": interval_s, "vehicles": VEHICLES,
                      "rss_growth_bound_mb": RSS_GROWTH_BOUND_MB},
        targets=[
            Target("loss after the first sample (all streams)", "0", str(lost), lost == 0),
            Target("every stream at its rate in every sample (5 %, or 1 sample per window)", "0 off",
                   f"{len(off_rate)} off", not off_rate and expected_streams > 0),
            Target("RSS growth of any process, first to last sample", f"<= {RSS_GROWTH_BOUND_MB:g} MB",
                   f"{worst_growth:.1f} MB", worst_growth <= RSS_GROWTH_BOUND_MB),
            Target("processes that exited", "0", str(len(exited)), not exited),
        ],
        notes=notes, tables={"RSS per process (MB)": processes},
    )


def plot(axes: Any, result: BenchResult) -> None:
    minutes = [row["minute"] for row in result.rows]
    rss = [row["rss_total_mb"] for row in result.rows]
    axes.plot(minutes, rss, label="RSS, all processes (MB)")
    axes.set_ylim(0, max(rss) * 1.2)  # from zero: a few MB of drift must not look like a leak
    axes.set_xlabel("minutes")
    axes.set_ylabel("MB")
    twin = axes.twinx()
    twin.plot(minutes, [row["rate_ratio_min"] for row in result.rows], color="tab:orange", label="lowest rate ratio")
    twin.set_ylim(0.9, 1.05)
    twin.set_ylabel("lowest rate ratio")
    axes.legend(loc="lower left")
    twin.legend(loc="lower right")
