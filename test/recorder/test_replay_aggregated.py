"""A replayed recording watched by a fresh aggregator on `replay`: the past looks as it did.

A 12 s segment of a 1 kHz Imu stream and a 100 Hz one, with latencies spread evenly over
1.0-5.9 ms, is replayed by `telemetry replay` (the command a user runs) through a real router
into a real aggregator started with `--key-root replay`. Its VehicleStats must give each
stream's recorded rate within 1 % and the recorded latency distribution (p50, p90, p99) with
no more added than one loopback hop and a busy host's lateness.
"""

from __future__ import annotations

import queue
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from support.processes import ProcessGroup, free_port
from support.zenoh_net import ClientSessions, start_router

from telemetry.codec import TypeStore
from telemetry.codec.names import VEHICLE_STATS
from telemetry.codec.stamp import ns_to_stamp
from telemetry.recorder.layout import vehicle_segment_path
from telemetry.recorder.segment import ChannelSpec, SegmentWriter

IMU = "sensor_msgs/msg/Imu"
REGION, VEHICLE = "eu-west", "rover-07"
DURATION_S = 12.0
STREAMS = {"/imu": 1000.0, "/slow": 100.0}


def _latency_ns(index: int) -> int:
    """1.0 to 5.9 ms in 0.1 ms steps, spread evenly: p50 about 3.45 ms, p99 about 5.85 ms."""
    return 1_000_000 + (index * 131 % 50) * 100_000


def _imu(store: TypeStore, source_ns: int) -> bytes:
    sec, nanosec = ns_to_stamp(source_ns)
    header = store.new("std_msgs/msg/Header", stamp=store.new("builtin_interfaces/msg/Time", sec=sec, nanosec=nanosec),
                       frame_id="imu_link")
    return store.encode(store.new(IMU, header=header))


def _write_recording(folder: Path, store: TypeStore) -> tuple[Path, dict[str, list[int]]]:
    """The segment, and each stream's recorded latencies (ns)."""
    start_ns = time.time_ns() - 3600 * 10**9  # an hour ago: replay must not depend on when it was recorded
    writer = SegmentWriter(vehicle_segment_path(folder, REGION, VEHICLE, start_ns), store,
                           {"region": REGION, "vehicle": VEHICLE}, start_ns)
    events = sorted(
        (start_ns + round(i * 1e9 / rate_hz), topic, i)
        for topic, rate_hz in STREAMS.items() for i in range(int(DURATION_S * rate_hz))
    )
    latencies: dict[str, list[int]] = {topic: [] for topic in STREAMS}
    for topic in STREAMS:
        writer.add_channel(ChannelSpec(topic, IMU))
    for receive_ns, topic, index in events:
        latency = _latency_ns(index)
        source_ns = receive_ns - latency
        writer.write(topic, receive_ns, source_ns, index + 1, _imu(store, source_ns))
        latencies[topic].append(latency)
    return writer.close(), latencies


def _percentile_ms(values: list[int], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1] / 1e6


def test_a_replayed_recording_gives_a_fresh_aggregator_the_recorded_rates_and_latencies(
    tmp_path: Path, processes: ProcessGroup, zenoh_clients: ClientSessions, store: TypeStore
) -> None:
    segment, latencies = _write_recording(tmp_path / "recording", store)
    router = start_router(processes, free_port())
    processes.start_module("telemetry.aggregator.service", "-e", router.endpoint, "--key-root", "replay",
                           "--window", "5", name="aggregator").wait_for_line(" ready", 30)
    watcher = zenoh_clients.open(router.endpoint)
    reports: queue.Queue[tuple[float, Any]] = queue.Queue()
    watcher.declare_subscriber(
        "replay/stats/*/*",
        lambda sample: reports.put((time.monotonic(), store.decode(VEHICLE_STATS, sample.payload.to_bytes()))))
    replay = processes.start_module("telemetry.cli", "replay", str(segment), "-e", router.endpoint,
                                    "--wait-subscribers", "10", name="replay")
    # The aggregator's window is 5 s: the stats published 8-11 s into the replay cover replayed samples only.
    first_s = time.monotonic()
    chosen: Any = None
    deadline = first_s + DURATION_S + 30
    while time.monotonic() < deadline:
        try:
            at_s, report = reports.get(timeout=1.0)
        except queue.Empty:
            continue
        streams = {s.topic: s for s in report.streams}
        if chosen is None and set(streams) == set(STREAMS) and streams["/imu"].received_total >= 8000:
            chosen = streams
            break
        del at_s
    assert chosen is not None, f"no stats for both streams after 8 s of replay\n{replay.output()}"
    assert replay.wait_exit(DURATION_S + 30) == 0, replay.output()
    assert "replayed 13200 samples" in replay.output()
    for topic, rate_hz in STREAMS.items():
        stats = chosen[topic]
        assert abs(stats.rate_hz - rate_hz) <= 0.01 * rate_hz, (topic, stats.rate_hz)
        assert stats.lost == 0, (topic, stats.lost)
    imu, recorded = chosen["/imu"], latencies["/imu"]
    # Generous above (a slow CI host added 8 ms at p99 once: the replay's puts run late), exact below.
    for measured, q, slack_ms in ((imu.latency_p50_ms, 0.5, 3.0), (imu.latency_p90_ms, 0.9, 6.0),
                                  (imu.latency_p99_ms, 0.99, 15.0)):
        expected = _percentile_ms(recorded, q)
        # Never below the recorded latency (the replay keeps it), and only a loopback hop above it.
        assert expected - 0.2 <= measured <= expected + slack_ms, (q, measured, expected)
    assert sys.platform.startswith("linux")
