"""Per-stream bridge options on a live 1 kHz Imu stream: downsampling and batching.

One sensor_sim publishes /imu at 1 kHz; two bridges on the same ROS domain subscribe to it,
each configured as a different vehicle so their keys do not mix: one forwards at most
50 Hz (`max_rate_hz: 50`), the other sends SampleBatch messages of 20 ms (`batch_ms: 20`).
The subscriber here records both for one 5 s window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zenoh
from support.fleet_files import next_domain_id, stream, write_fleet_config
from support.processes import ChildProcess, ProcessGroup, free_port
from support.vehicle_nodes import start_bridge, start_sensor_sim, wait_bridge_attached
from support.wire import (
    WireRecorder,
    WireSample,
    allowed_losses,
    missing_sequences,
    query_catalogue,
    stream_counters,
)
from support.zenoh_net import ClientSessions, start_router

from telemetry.codec import TypeStore

REGION = "eu-west"
WINDOW_S = 5.0
IMU = "sensor_msgs/msg/Imu"
BATCH_TYPE = "telemetry/msg/SampleBatch"
DOWNSAMPLED_KEY = f"telemetry/data/{REGION}/rover-ds/imu"
BATCH_KEY = f"telemetry/data/{REGION}/rover-batch/imu"  # a stream's batches go on its own key
MS = 1_000_000


@dataclass
class Recording:
    observer: zenoh.Session
    children: list[ChildProcess]
    downsampled: list[WireSample]  # in the window
    batches: list[WireSample]  # in the window
    all_batches: list[WireSample]  # since the first one

    def logs(self) -> str:
        return "\n".join(child.output() for child in self.children)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recording]:
    folder = tmp_path_factory.mktemp("stream_options")
    port, domain_id = free_port(), next_domain_id()

    def config(name: str, **options: Any) -> str:
        path = write_fleet_config(folder / f"{name}.yaml", vehicle=name, domain_id=domain_id, router_port=port,
                                  streams=[stream("/imu", IMU, 1000, **options)])
        return str(path)

    group = ProcessGroup()
    clients = ClientSessions()
    try:
        router = start_router(group, port, "eu-west.json5")
        sensor_sim = start_sensor_sim(group, Path(config("rover-01")), "rover-01")
        downsampler = start_bridge(group, "--config", config("rover-ds", max_rate_hz=50), "--vehicle", "rover-ds",
                                   name="bridge:max_rate_hz")
        batcher = start_bridge(group, "--config", config("rover-batch", batch_ms=20), "--vehicle", "rover-batch",
                               name="bridge:batch_ms")
        children = [sensor_sim, downsampler, batcher]
        wait_bridge_attached(downsampler)
        wait_bridge_attached(batcher)
        observer = clients.open(router.endpoint)
        with WireRecorder(observer, "telemetry/**") as recorder:
            for key in (DOWNSAMPLED_KEY, BATCH_KEY):
                assert recorder.wait_for(key, 2, timeout_s=20.0), "\n".join(c.output() for c in children)
            start_ns, end_ns = recorder.measure(WINDOW_S)
        yield Recording(observer, children, recorder.samples(DOWNSAMPLED_KEY, start_ns, end_ns),
                        recorder.messages(BATCH_KEY, start_ns, end_ns), recorder.messages(BATCH_KEY))
    finally:
        clients.close_all()
        group.stop_all()


def test_max_rate_hz_50_forwards_the_1_khz_imu_at_50_hz(recording: Recording) -> None:
    count = len(recording.downsampled)
    assert 48 * WINDOW_S <= count <= 52 * WINDOW_S, f"{count / WINDOW_S:.1f} Hz\n{recording.logs()}"
    # Numbered after downsampling: consecutive, apart from what the transport may drop.
    missing = missing_sequences([sample.attachment.sequence for sample in recording.downsampled])
    assert len(missing) <= allowed_losses(count), missing


def test_downsampled_samples_are_evenly_spaced(recording: Recording) -> None:
    stamps_ns = np.array([sample.attachment.source_time_ns for sample in recording.downsampled])
    intervals_ms = np.diff(stamps_ns) / MS
    assert np.median(intervals_ms) == pytest.approx(20.0, abs=1.0)
    assert np.percentile(intervals_ms, 5) >= 15.0 and np.percentile(intervals_ms, 95) <= 25.0


def test_the_downsampling_bridge_reports_the_forwarded_rate_and_what_it_dropped(recording: Recording) -> None:
    catalogue = query_catalogue(recording.observer, REGION, "rover-ds")
    (entry,) = catalogue["streams"]
    assert (entry["expected_hz"], entry["rate_hz"], entry["max_rate_hz"]) == (50.0, 1000.0, 50.0)
    counters = stream_counters(catalogue, "/imu")
    assert counters["downsampled"] > 0
    assert counters["forwarded"] == pytest.approx(counters["received"] / 20, rel=0.1)


def test_batch_ms_20_sends_about_50_sample_batches_a_second(recording: Recording) -> None:
    count = len(recording.batches)
    assert 40 * WINDOW_S <= count <= 60 * WINDOW_S, f"{count / WINDOW_S:.1f} batches/s\n{recording.logs()}"
    for sample in recording.batches:
        assert sample.encoding == f"application/cdr;{BATCH_TYPE}"
        assert sample.attachment_bytes is None


def test_batches_hold_every_sample_in_order_with_none_lost(recording: Recording, store: TypeStore) -> None:
    batches = [store.decode(BATCH_TYPE, sample.payload) for sample in recording.all_batches]
    for batch in batches:  # inside a batch nothing can be lost on the way
        assert list(batch.sequence) == list(range(batch.sequence[0], batch.sequence[0] + len(batch.sequence)))
    missing = missing_sequences([n for batch in batches for n in batch.sequence])
    sizes = [len(batch.sequence) for batch in batches]
    # Between batches, only whole batches the transport dropped (see TRANSPORT_LOSS_TOLERANCE).
    assert len(missing) <= allowed_losses(len(batches)) * max(sizes), (missing, sizes)
    in_window = sum(len(store.decode(BATCH_TYPE, s.payload).sequence) for s in recording.batches)
    problem = f"{in_window} samples in {len(recording.batches)} batches in the window, sizes {sizes}"
    assert in_window >= 0.99 * 1000 * WINDOW_S - 50, problem  # 1 kHz, give or take the edge batches
    assert 15 <= np.median(sizes) <= 25, problem  # 20 ms of a 1 kHz stream


def test_each_batched_sample_is_the_imu_message_with_its_header_stamp(recording: Recording, rosbags_store: Any) -> None:
    for sample in recording.batches:
        batch = rosbags_store.deserialize_cdr(sample.payload, BATCH_TYPE)
        assert batch.ros_type == IMU and batch.stamp_from_header is True and batch.version == 1
        offsets = [0, *np.cumsum(batch.size).tolist()]
        data = batch.data.tobytes()
        assert offsets[-1] == len(data)
        for index, source_ns in enumerate(batch.source_time_ns):
            imu = rosbags_store.deserialize_cdr(data[offsets[index]:offsets[index + 1]], IMU)
            assert imu.header.frame_id == "rover-01/imu_link"
            assert imu.header.stamp.sec * 1_000_000_000 + imu.header.stamp.nanosec == source_ns
        span_ms = (batch.source_time_ns[-1] - batch.source_time_ns[0]) / MS
        assert span_ms < 100.0  # one batch holds its 20 ms, not a backlog

