"""size: latency and throughput against payload size, through the bridge.

For each size, a ROS 2 publisher (payload_sim: one sensor_msgs/Image of that many data bytes,
as a camera or a lidar stream would send) → zenoh_bridge (graph-found topic, `--topics`
mode, no fleet config) → regional router → cloud router → the measuring subscriber. The
routers run once for all sizes; each size gets a fresh payload_sim and bridge in a ROS domain
of its own, so no DDS state carries over from the size before.

Latency is receive time at the subscriber minus the Image's `header.stamp` (taken just
before `publish()`), so it covers serialization, DDS, the bridge, both routers and Zenoh's
fragmentation of large samples.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from telemetry.bench.latency import StreamMeasure, measure_stream
from telemetry.bench.network import BenchFleet
from telemetry.bench.paths import PathRun, measure_path
from telemetry.bench.results import BenchResult
from telemetry.demo.plan import Part, PartKind
from telemetry.demo.supervisor import Child, Supervisor
from telemetry.keys import KeySpace

__all__ = ["SIZES", "bridge_part", "plot", "run", "sim_part"]

#: (payload bytes, publish rate in Hz): 100 Hz up to 16 kB, then camera/lidar-like rates.
SIZES: tuple[tuple[int, float], ...] = (
    (64, 100.0), (1024, 100.0), (16 * 1024, 100.0), (256 * 1024, 30.0), (1024 * 1024, 10.0),
)
TOPIC = "/blob"
REGION, VEHICLE = "bench", "size"
SIM_NAME, BRIDGE_NAME = "bench payload_sim", "bench zenoh_bridge"
_LATENCY_COLUMNS = ("p50", "p90", "p99", "max")
#: Fast DDS's default shared-memory segment per participant (SharedMemTransport::init, 2.x).
FASTDDS_SHM_SEGMENT_BYTES = 512 * 1024
#: What Fast DDS 2.14 (the Jazzy wheels) reads; it ignores FASTDDS_DEFAULT_PROFILES_FILE (tried here).
_FASTDDS_PROFILE_VARIABLE = "FASTRTPS_DEFAULT_PROFILES_FILE"

NOTES = (
    "rates: 100 Hz for 64 B, 1 kB and 16 kB; 30 Hz for 256 kB; 10 Hz for 1 MB (an Image or a "
    "PointCloud2 stream at 10-30 Hz)",
    "the bridge forwards /blob with its defaults for a graph-found topic: DDS subscription with "
    "the sensor-data QoS (best effort, keep last 5), Zenoh priority data, congestion control "
    "drop, express, no downsampling, no batching; the vehicle's Zenoh config "
    "(config/zenoh/vehicle.json5: tx queue of 16 batches per priority, wait 10 ms before a "
    "drop). Zenoh's batches hold at most 64 kB, so larger samples go as fragments",
    "lost counts gaps in the bridge's sequence numbers (Zenoh side); a sample DDS dropped "
    "before the bridge has no sequence number: it shows as delivered_hz below rate_hz",
    "bridge_us_per_sample is the bridge's CPU over the window divided by the samples delivered, "
    "so it includes its fixed costs (the graph scan every 1 s, the counters report), which weigh "
    "most at 10-30 Hz; /proc counts CPU in 10 ms ticks, so short windows "
    "at low rates give coarse figures",
)


def sim_part(size_bytes: int, rate_hz: float, domain_id: int) -> Part:
    """payload_sim publishing `size_bytes` of Image data on /blob at `rate_hz` in `domain_id`."""
    args = ("--topic", TOPIC, "--size", str(size_bytes), "--rate-hz", f"{rate_hz:g}", "--domain-id", str(domain_id))
    return Part(SIM_NAME, PartKind.TOOL, args, tool_module="telemetry.ros.payload_sim")


def bridge_part(endpoint: str, domain_id: int) -> Part:
    """The bridge in `--topics` mode (no fleet config): /blob from `domain_id` to the router at `endpoint`."""
    args = ("--region", REGION, "--vehicle", VEHICLE, "--topics", TOPIC, "-e", endpoint,
            "--domain-id", str(domain_id))
    return Part(BRIDGE_NAME, PartKind.BRIDGE, args)


def run(duration_s: float, log_dir: Path | None = None, warmup_s: float = 3.0) -> BenchResult:
    """Every size in SIZES, one after the other, each measured for `duration_s` after `warmup_s`."""
    key = KeySpace().data(REGION, VEHICLE, TOPIC)  # the bridge's root when it runs without a fleet config
    base_domain = 200 + os.getpid() % 28  # above the e2e fleets' 150..209 (mostly) and the tests' 20..90
    rows: list[dict[str, Any]] = []
    cpu_rows: list[dict[str, Any]] = []
    with BenchFleet(1, log_dir) as net:
        net.start_routers()
        routers = net.routers[:2]  # the cloud router and the region the bridge connects to
        for index, (size_bytes, rate_hz) in enumerate(SIZES):
            supervisor = Supervisor(_fresh_folder(net.log_dir / f"size-{size_bytes}"))
            try:
                _start_source(supervisor, size_bytes, rate_hz, net.region_endpoint(0), base_domain + index)
                measured = measure_path(net.cloud_endpoint, key, [*routers, *supervisor.children],
                                        warmup_s, duration_s)
            finally:
                supervisor.stop_all()
            stream = measured.streams.get(key, _nothing())
            rows.append(_row(size_bytes, rate_hz, stream, measured))
            cpu_rows.append(_cpu_row(size_bytes, measured, routers))
    return BenchResult(
        "size", "size: payload_sim (Image) -> bridge -> 2 routers -> subscriber, by payload size", rows,
        params={"duration_s": duration_s, "warmup_s": warmup_s, "sizes": [s for s, _ in SIZES],
                "rates_hz": [r for _, r in SIZES],
                "fastdds_profiles_file": os.environ.get(_FASTDDS_PROFILE_VARIABLE)},
        notes=[*NOTES, *_missing(rows)],
        tables={"CPU per process over the window, % of one core": cpu_rows},
    )


def _fresh_folder(folder: Path) -> Path:
    """A log folder without the logs of an earlier run: the supervisor appends to a part's log
    and finds ready lines anywhere in it, so a stale "bridging /blob" would end the wait at once."""
    folder.mkdir(parents=True, exist_ok=True)
    for old_log in folder.glob("*.log"):
        old_log.unlink()
    return folder


def _start_source(supervisor: Supervisor, size_bytes: int, rate_hz: float, endpoint: str, domain_id: int) -> None:
    """payload_sim and the bridge, up and linked: the bridge has found /blob and opened its session."""
    sim = supervisor.start(sim_part(size_bytes, rate_hz, domain_id))
    bridge = supervisor.start(bridge_part(endpoint, domain_id))
    supervisor.wait_for_line(sim, "payload_sim ready", 60)
    supervisor.wait_for_line(bridge, "forwarding ", 60)
    supervisor.wait_for_line(bridge, f"bridging {TOPIC} ", 60)


def _nothing() -> StreamMeasure:
    empty = np.zeros(0, dtype=np.int64)
    return measure_stream(empty, empty, np.zeros(0, dtype=np.uint64), empty, 1.0)


def _row(size_bytes: int, rate_hz: float, stream: StreamMeasure, measured: PathRun) -> dict[str, Any]:
    bridge_cpu_s = measured.cpu_s.get(BRIDGE_NAME, 0.0)
    return {
        "size_bytes": size_bytes,
        "rate_hz": rate_hz,
        "delivered_hz": round(stream.samples / measured.window_s, 1),
        "lost": stream.lost,
        **{f"{name}_ms": round(stream.latency_ms[name], 3) for name in _LATENCY_COLUMNS},
        "MB_per_s": round(stream.bytes_per_s / 1e6, 3),
        "bridge_us_per_sample": round(1e6 * bridge_cpu_s / stream.samples, 1) if stream.samples else math.nan,
    }


def _cpu_row(size_bytes: int, measured: PathRun, routers: list[Child]) -> dict[str, Any]:
    names = [SIM_NAME, BRIDGE_NAME, *(child.part.name for child in reversed(routers))]
    return {"size_bytes": size_bytes,
            **{name: round(100 * measured.cpu_s.get(name, 0.0) / measured.window_s, 1) for name in names}}


def _missing(rows: list[dict[str, Any]]) -> list[str]:
    """A note for each size where less than 90 % of the published rate arrived, with the likely
    cause when the sample cannot fit Fast DDS's default shared-memory segment."""
    notes = []
    for row in rows:
        if row["delivered_hz"] >= 0.9 * row["rate_hz"]:
            continue
        note = f"{row['size_bytes']} B: only {row['delivered_hz']:g} of {row['rate_hz']:g} Hz arrived"
        if row["size_bytes"] > FASTDDS_SHM_SEGMENT_BYTES and _FASTDDS_PROFILE_VARIABLE not in os.environ:
            note += (f"; a sample larger than Fast DDS's default {FASTDDS_SHM_SEGMENT_BYTES >> 10} kB shared-memory "
                     "segment cannot go by shared memory, and best effort loses most of them on the DDS hop "
                     "(payload_sim -> bridge). A Fast DDS XML profile with a larger SHM segment_size, named by "
                     f"{_FASTDDS_PROFILE_VARIABLE}, lifts that limit")
        notes.append(note)
    return notes


def plot(axes: Any, result: BenchResult) -> None:
    """p50 and p99 latency against payload size, log-log."""
    from matplotlib.ticker import FormatStrFormatter  # matplotlib only where a plot is drawn

    measured = [row for row in result.rows if not math.isnan(row["p50_ms"])]
    sizes = [row["size_bytes"] for row in measured]
    for column, marker in (("p50_ms", "o"), ("p99_ms", "s")):
        axes.plot(sizes, [row[column] for row in measured], marker=marker, label=column.removesuffix("_ms"))
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks([row["size_bytes"] for row in result.rows], [_size_label(row["size_bytes"]) for row in result.rows])
    axes.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
    axes.set_xlabel("payload (Image data bytes)")
    axes.set_ylabel("latency, ms (log)")
    for axis in (axes.yaxis.set_major_formatter, axes.yaxis.set_minor_formatter):
        axis(FormatStrFormatter("%g"))
    axes.grid(True, which="major", axis="x", linestyle=":", linewidth=0.5)
    axes.grid(True, which="both", axis="y", linestyle=":", linewidth=0.5)
    axes.legend()


def _size_label(size_bytes: int) -> str:
    if size_bytes >= 1 << 20:
        return f"{size_bytes >> 20} MB"
    return f"{size_bytes >> 10} kB" if size_bytes >= 1 << 10 else f"{size_bytes} B"
