"""record: what the recorder sustains on one core, what it costs a fleet, and how fast its
history and replay are.

1. Writer, in process, one core: 3 Imu streams of 316 B written through the recorder's own
   `Recording.write` (the `mcap` library, zstd chunks), and the same samples through rosbags'
   rosbag2 writer (mcap storage), single samples and batches taken apart as the recorder does.
2. The recorder process pinned to one core, fed by blasters (real attachments, real
   SampleBatches, congestion control BLOCK) through one router: single samples and batches of
   50 at growing rates. A level is kept up when the blasters sent >= 99 % of the offered rate,
   the recorder wrote >= 98 % of that rate over the window (its RecorderStatus), dropped
   nothing, and its files miss no sequence number of any stream.
3. The demo fleet (3 vehicles, the shipped streams) with a recorder: the recorder's CPU, MB/s
   written and bytes per sample on disk; then a history query for one vehicle's /imu over the
   window: time to first sample and samples/s.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zenoh

from telemetry.bench.blaster import PAYLOAD_BYTES, BatchTemplate, blaster_part, stop_blaster
from telemetry.bench.network import BenchFleet, settle
from telemetry.bench.procstat import cpu_seconds
from telemetry.bench.results import BenchResult, Target
from telemetry.codec import TypeStore
from telemetry.codec.batch import read_batch
from telemetry.codec.names import RECORDER_STATUS
from telemetry.codec.stamp import stamp_to_ns
from telemetry.demo.plan import Part, PartKind, recorder_part, router_parts
from telemetry.fleet.vehicle_key import VehicleKey
from telemetry.keys import KeyKind, KeySpace
from telemetry.net import BackgroundSession, SessionOptions
from telemetry.net.declarations import undeclare_all
from telemetry.recorder.archive import read_samples
from telemetry.recorder.layout import list_segments
from telemetry.recorder.replay import ReplayOptions, run_replay
from telemetry.recorder.segment import ChannelSpec
from telemetry.recorder.writer import Recording, SegmentLimits
from telemetry.sim.sensors import IMU_TYPE

__all__ = ["plot", "run"]

WRITER_SAMPLES = 300_000
BATCH = 50
RATE_HZ = 1000.0
#: (mode, vehicles, streams per vehicle) at RATE_HZ per stream, tried in order until one is not kept up.
LEVELS = (("single", 5, 10), ("single", 10, 10), ("single", 15, 10),
          ("batched", 10, 10), ("batched", 25, 10), ("batched", 40, 10))
QUICK_LEVELS = (("single", 1, 5), ("batched", 1, 5))
RECORDER_CORE = 1


def run(duration_s: float, log_dir: Path | None = None, warmup_s: float = 3.0) -> BenchResult:
    quick = duration_s < 5
    store = TypeStore.from_environment()
    writer_rows = _writer_rows(store, 20_000 if quick else WRITER_SAMPLES)
    level_rows: list[dict[str, Any]] = []
    for mode in ("single", "batched"):
        for level in (QUICK_LEVELS if quick else LEVELS):
            if level[0] != mode:
                continue
            row = _run_level(level, duration_s, warmup_s, log_dir, store)
            level_rows.append(row)
            if not row["kept_up"]:
                break
    fleet_row, history_row, replay_row = _demo_fleet(duration_s, warmup_s, log_dir, store)
    best = {mode: max((r["written_per_s"] for r in level_rows if r["mode"] == mode and r["kept_up"]), default=0.0)
            for mode in ("single", "batched")}
    verdict = None if quick else True
    return BenchResult(
        "record", "record: the recorder on one core, its cost in the demo fleet, history", level_rows,
        params={"duration_s": duration_s, "warmup_s": warmup_s, "rate_hz": RATE_HZ, "batch": BATCH,
                "recorder_core": RECORDER_CORE, "writer_samples": writer_rows[0]["samples"]},
        targets=[
            Target("recorder process on one core, single samples, 0 lost", ">= 100000 samples/s",
                   f"{best['single']:.0f} samples/s", verdict and best["single"] >= 100_000),
            Target("recorder process on one core, batched, 0 lost", ">= 250000 samples/s",
                   f"{best['batched']:.0f} samples/s", verdict and best["batched"] >= 250_000),
            Target("recorder CPU in the demo fleet", "<= 10 % of a core",
                   f"{fleet_row['recorder_cpu_pct']:.1f} %", verdict and fleet_row["recorder_cpu_pct"] <= 10),
        ],
        notes=["levels stop at the first one not kept up; kept up: sent >= 99 % of offered, written >= 98 % of "
               "sent over the window, nothing dropped, no sequence missing in the files (lost_in_files)",
               "recorder_cpu_pct over 100: the threads Zenoh starts after the pinning are not pinned",
               "writer rows: in process on one core, no Zenoh: the cost of writing alone; the chosen writer is "
               "the `mcap` library's (rosbags' writer takes no publish_time or sequence per message)"],
        tables={"writer, in process, one core": writer_rows, "demo fleet with a recorder": [fleet_row],
                "history query, one vehicle's /imu over the window": [history_row],
                "replay of one vehicle's recording at rate 1 (|put time - recorded offset|)": [replay_row]},
    )


# -- 1. the writer alone ----------------------------------------------------------------------


def _writer_rows(store: TypeStore, count: int) -> list[dict[str, Any]]:
    os.sched_setaffinity(0, {RECORDER_CORE})
    try:
        return [_mcap_single(store, count), _mcap_batched(store, count), _rosbags_single(count)]
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


def _recording(folder: Path, store: TypeStore) -> Recording:
    return Recording(folder, store, SegmentLimits(duration_s=3600.0), {},
                     lambda _source, topic, kind: ChannelSpec(topic, kind))


def _timed_row(name: str, count: int, folder: Path, started: float) -> dict[str, Any]:
    elapsed = time.perf_counter() - started
    size = sum(s.size for s in list_segments(folder)) if folder.is_dir() else sum(
        p.stat().st_size for p in folder.parent.rglob("*") if p.is_file())
    shutil.rmtree(folder.parent, ignore_errors=True)
    return {"writer": name, "samples": count, "samples_per_s": round(count / elapsed),
            "MB_per_s": round(count * PAYLOAD_BYTES / elapsed / 1e6, 1), "bytes_per_sample": round(size / count, 1)}


def _mcap_single(store: TypeStore, count: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-record-")) / "rec"
    recording, source, data = _recording(folder, store), VehicleKey("bench", "v"), _imu(store)
    topics = ("/imu0", "/imu1", "/imu2")
    now = time.time_ns()
    started = time.perf_counter()
    for i in range(count):
        recording.write(source, topics[i % 3], IMU_TYPE, now + i * 1000, now + i * 1000, i + 1, data)
    recording.close_all()
    return _timed_row("mcap (Recording.write), single", count, folder, started)


def _mcap_batched(store: TypeStore, count: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-record-")) / "rec"
    recording, source = _recording(folder, store), VehicleKey("bench", "v")
    template = BatchTemplate(store, BATCH)
    batches = [template.make(1 + i * BATCH, time.time_ns()) for i in range(count // BATCH)]
    now = time.time_ns()
    started = time.perf_counter()
    for index, payload in enumerate(batches):
        batch = read_batch(store, payload)
        for sequence, source_ns, data in batch.samples():
            recording.write(source, f"/imu{index % 3}", batch.ros_type, now, source_ns, sequence, data)
    recording.close_all()
    return _timed_row(f"mcap (Recording.write), batches of {BATCH} taken apart", len(batches) * BATCH, folder, started)


def _rosbags_single(count: int) -> dict[str, Any]:
    from rosbags.rosbag2 import StoragePlugin, Writer  # a test dependency: the comparison only
    from rosbags.rosbag2.enums import CompressionFormat, CompressionMode
    from rosbags.typesys import Stores, get_typestore

    typestore = get_typestore(Stores.ROS2_JAZZY)
    path = Path(tempfile.mkdtemp(prefix="bench-record-")) / "bag"
    data = b"\x00\x01\x00\x00" + bytes(PAYLOAD_BYTES - 4)
    now = time.time_ns()
    started = time.perf_counter()
    writer = Writer(path, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.set_compression(CompressionMode.STORAGE, CompressionFormat.ZSTD)
    writer.open()
    try:
        connections = [writer.add_connection(f"/imu{i}", IMU_TYPE, typestore=typestore) for i in range(3)]
        for i in range(count):
            writer.write(connections[i % 3], now + i * 1000, data)
    finally:
        writer.close()
    return _timed_row("rosbags rosbag2 Writer (mcap storage, zstd), single", count, path, started)


def _imu(store: TypeStore) -> bytes:
    return store.encode(store.new(IMU_TYPE))


# -- 2. the recorder process on one core -------------------------------------------------------


def _run_level(level: tuple[str, int, int], duration_s: float, warmup_s: float, log_dir: Path | None,
               store: TypeStore) -> dict[str, Any]:
    mode, vehicles, streams = level
    name = f"{mode}-{vehicles}x{streams}"
    with tempfile.TemporaryDirectory(prefix="bench-record-") as scratch, \
            BenchFleet(1, None if log_dir is None else log_dir / name) as net:
        net.start(router_parts(net.fleet)[0], " listening on ")
        recorder = net.start(Part("recorder", PartKind.RECORDER,
                                  ("-e", net.cloud_endpoint, "--folder", scratch, "--no-stats")), " ready")
        pin_threads(recorder.pid, RECORDER_CORE)
        watch = _StatusWatch(net.cloud_endpoint, store)
        half = max(1, vehicles // 2)
        offered = 2 * half * streams * RATE_HZ
        blasters = [net.start(blaster_part(net.cloud_endpoint, f"p{i}", half, streams, RATE_HZ,
                                           BATCH if mode == "batched" else 0), "blaster ready") for i in range(2)]
        try:
            window = _measure(watch, recorder.pid, warmup_s, duration_s)
        except BaseException:
            watch.close()
            raise
        stopped = [stop_blaster(b) for b in blasters]
        sent_total = sum(count for count, _ in stopped)
        sent = sum(count / seconds for count, seconds in stopped if seconds > 0)
        final = _settled(watch, sent_total)
        watch.close()
        recorder.process.send_signal(signal.SIGTERM)  # closes its segments
        recorder.process.wait(timeout=120)
        gaps = _sequence_gaps(Path(scratch))
    span, cpu = window.span_s, window.cpu_s
    written = (window.last.samples_written - window.first.samples_written) / span
    return {"mode": mode, "streams": 2 * half * streams, "offered_per_s": offered, "sent_per_s": round(sent),
            "written_per_s": round(written), "sent_total": sent_total, "lost_in_files": gaps,
            "dropped": final.samples_dropped,
            "kept_up": sent >= 0.99 * offered and written >= 0.98 * sent and gaps == 0 and final.samples_dropped == 0,
            "recorder_cpu_pct": round(100 * cpu / span, 1),
            "us_per_sample": round(1e6 * cpu / span / written, 2) if written else math.nan}


@dataclass(frozen=True)
class _Window:
    """The recorder's status at both ends of a measured window, and its CPU seconds in between."""

    first: _Status
    last: _Status
    cpu_s: float

    @property
    def span_s(self) -> float:
        return max(1e-9, self.last.at - self.first.at)


def _measure(watch: _StatusWatch, pid: int, warmup_s: float, duration_s: float) -> _Window:
    """After `warmup_s`, `duration_s` between two fresh statuses of the recorder `pid`."""
    settle(warmup_s)
    before = cpu_seconds(pid)
    first = watch.latest(10.0)
    time.sleep(duration_s)
    last = watch.latest(10.0)
    return _Window(first, last, cpu_seconds(pid) - before)


def _sequence_gaps(folder: Path) -> int:
    """Samples missing from the recorded files: per stream, the sequence numbers between its
    first and last recorded sample that are not there (the route to the recorder forms a
    moment after the blasters start, so what was sent before its first sample is not counted)."""
    seen: dict[tuple[str, str], tuple[int, int, int]] = {}  # (vehicle, topic) -> (count, first, last)
    for segment in list_segments(folder):
        vehicle = segment.path.parent.name
        for sample in read_samples(segment.path):
            key = (vehicle, sample.topic)
            count, low, high = seen.get(key, (0, sample.sequence, sample.sequence))
            seen[key] = (count + 1, min(low, sample.sequence), max(high, sample.sequence))
    return sum(high - low + 1 - count for count, low, high in seen.values())


def _settled(watch: _StatusWatch, expected: int) -> _Status:
    """The recorder's status once it has written `expected` samples or stopped counting up."""
    status = watch.latest(10.0)
    for _ in range(10):
        if status.samples_written >= expected:
            break
        again = watch.latest(10.0)
        if again.samples_written == status.samples_written:
            break
        status = again
    return status


def pin_threads(pid: int, core: int) -> None:
    """Every thread of `pid` onto `core` (the affinity of a process is per thread on Linux)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), {core})
        except OSError:
            continue


class _Status:
    def __init__(self, message: Any) -> None:
        self.at = stamp_to_ns(message.stamp.sec, message.stamp.nanosec) / 1e9  # the recorder's clock: no arrival jitter
        self.samples_written = int(message.samples_written)
        self.samples_dropped = int(message.samples_dropped)
        self.bytes_written = int(message.bytes_written)


class _StatusWatch:
    """The recorder's RecorderStatus as it arrives (about once a second)."""

    def __init__(self, endpoint: str, store: TypeStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._latest: _Status | None = None
        self._fresh = threading.Event()
        self._link = BackgroundSession(SessionOptions(mode="client", connect=(endpoint,)), name="bench").start()
        session = self._link.wait(10.0)
        assert session is not None, f"no router at {endpoint}"
        self._subscriber = session.declare_subscriber(KeySpace().selector(KeyKind.RECORDER), self._on_status)

    def _on_status(self, sample: zenoh.Sample) -> None:
        status = _Status(self._store.decode(RECORDER_STATUS, sample.payload.to_bytes()))
        with self._lock:
            self._latest = status
        self._fresh.set()

    def latest(self, timeout_s: float) -> _Status:
        """The next status to arrive (so the two ends of a window are both fresh); without one
        in `timeout_s`, the last one seen (a recorder that cannot keep up reports late)."""
        self._fresh.clear()
        self._fresh.wait(timeout_s)
        with self._lock:
            if self._latest is None:
                raise RuntimeError("the recorder published no status")
            return self._latest

    def close(self) -> None:
        undeclare_all([self._subscriber])
        self._link.close()


# -- 3. the demo fleet, and a history query ---------------------------------------------------


def _demo_fleet(duration_s: float, warmup_s: float, log_dir: Path | None,
                store: TypeStore) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-record-") as scratch, \
            BenchFleet(3, None if log_dir is None else log_dir / "demo-fleet") as net:
        net.start_routers()
        recorder = net.start(recorder_part(net.fleet, net.config_path, Path(scratch)), " ready")
        watch = _StatusWatch(net.cloud_endpoint, store)
        try:
            net.start_vehicles()
            window = _measure(watch, recorder.pid, warmup_s, duration_s)
            history = _history_query(net, duration_s)
        finally:
            watch.close()
        first, last, span, cpu = window.first, window.last, window.span_s, window.cpu_s
        samples = last.samples_written - first.samples_written
        on_disk = sum(s.size for s in list_segments(Path(scratch)))
        fleet_row = {"vehicles": 3, "samples_per_s": round(samples / span),
                     "recorder_cpu_pct": round(100 * cpu / span, 1),
                     "MB_per_s_data": round((last.bytes_written - first.bytes_written) / span / 1e6, 2),
                     "bytes_on_disk_per_sample": round(on_disk / max(1, last.samples_written), 1)}
        for vehicle in net.vehicles:
            vehicle.process.send_signal(signal.SIGTERM)
        recorder.process.send_signal(signal.SIGTERM)  # closes its segments: replay takes closed ones
        recorder.process.wait(timeout=60)
        replay = _replay(net, Path(scratch), store)
    return fleet_row, history, replay


def _replay(net: BenchFleet, folder: Path, store: TypeStore) -> dict[str, Any]:
    """One vehicle's recording put back onto Zenoh (key root `replay`) at rate 1: how far each
    put is from its recorded offset."""
    vehicle = net.fleet.vehicles[0]
    files = tuple(s.path for s in list_segments(folder) if s.closed and s.path.parent.name == vehicle.name)
    options = ReplayOptions(files)
    report = run_replay(options, SessionOptions(mode="client", connect=(net.cloud_endpoint,)), store,
                        threading.Event())
    timing = report.timing_error
    return {"samples": report.samples, "duration_s": round(report.duration_s, 2),
            "timing_error_p50_us": round(timing.p50_us, 1), "timing_error_p99_us": round(timing.p99_us, 1),
            "timing_error_max_us": round(timing.max_us, 1)}


def _history_query(net: BenchFleet, window_s: float) -> dict[str, Any]:
    vehicle = net.fleet.vehicles[0]
    key = f"{KeySpace(net.fleet.key_root).history(vehicle.region, vehicle.name, '/imu')}?_time=[now(-{window_s:g}s)..]"
    with BackgroundSession(SessionOptions(mode="client", connect=(net.cloud_endpoint,)), name="bench") as link:
        session = link.wait(10.0)
        assert session is not None
        started = time.perf_counter()
        first_s = math.nan
        count = 0
        for reply in session.get(key, target=zenoh.QueryTarget.ALL, consolidation=zenoh.ConsolidationMode.NONE,
                                 timeout=60.0):
            if reply.ok is None:
                continue
            if count == 0:
                first_s = time.perf_counter() - started
            count += 1
        elapsed = time.perf_counter() - started
    return {"samples": count, "first_sample_ms": round(1e3 * first_s, 1),
            "samples_per_s": round(count / elapsed) if elapsed > 0 else math.nan}


def plot(axes: Any, result: BenchResult) -> None:
    for mode, marker in (("single", "o"), ("batched", "s")):
        rows = [r for r in result.rows if r["mode"] == mode]
        axes.plot([r["sent_per_s"] for r in rows], [r["written_per_s"] for r in rows], marker=marker, label=mode)
    axes.set_xlabel("sent by the blasters, samples/s")
    axes.set_ylabel("written by the recorder (one core), samples/s")
    axes.legend()
    axes.grid(True, alpha=0.3)
