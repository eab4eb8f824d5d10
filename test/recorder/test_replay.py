"""`telemetry replay`: a recorded segment put back onto Zenoh and into ROS 2 with its timing.

Recordings are written by the recorder's own SegmentWriter with real Imu CDR, at about 1 kHz
in receive time with uneven gaps and latencies, so the checks below can tell a replay that
keeps the recorded gaps and latencies from one that merely sends everything.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

import pytest
import zenoh
from mcap.reader import make_reader
from rclpy.qos import QoSDurabilityPolicy, QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy
from sensor_msgs.msg import Imu
from support.fleet_files import next_domain_id
from support.processes import ProcessGroup, free_port, wait_until
from support.ros_side import ros_probe
from support.zenoh_net import ClientSessions, start_router

from telemetry.codec import TypeStore
from telemetry.codec.attachment import FLAG_STAMP_FROM_HEADER, unpack_fields
from telemetry.codec.stamp import ns_to_stamp
from telemetry.errors import TelemetryError
from telemetry.net import SessionOptions
from telemetry.recorder.archive import RecordedSample, read_samples
from telemetry.recorder.layout import part_path, vehicle_segment_path
from telemetry.recorder.replay import (
    ReplayOptions,
    ReplayReport,
    merged_samples,
    open_sources,
    play,
    recording_start_ns,
    resolve_time_ns,
    run_replay,
    schedule_ns,
    shifted_source_ns,
    wait_until_ns,
    wire_sequence,
)
from telemetry.recorder.segment import ChannelSpec, SegmentWriter, qos_profiles_yaml
from telemetry.ros.common import qos_for
from telemetry.ros.replay_ros import qos_from_offered, replay_topic_names, run_replay_ros

IMU = "sensor_msgs/msg/Imu"
REGION = "eu-west"
VEHICLE = "rover-01"
SAMPLES = 400
FIRST_SEQUENCE = 41


@dataclass(frozen=True)
class Recording:
    """A closed segment and the samples written into it, in receive order."""

    path: Path
    samples: tuple[RecordedSample, ...]

    @property
    def span_ns(self) -> int:
        return self.samples[-1].receive_ns - self.samples[0].receive_ns

    def gaps_ns(self) -> list[int]:
        return [b.receive_ns - a.receive_ns for a, b in pairwise(self.samples)]


def imu_cdr(store: TypeStore, source_ns: int, index: int) -> bytes:
    sec, nanosec = ns_to_stamp(source_ns)
    header = store.new("std_msgs/msg/Header", stamp=store.new("builtin_interfaces/msg/Time", sec=sec, nanosec=nanosec),
                       frame_id=f"{VEHICLE}/imu_link")
    imu = store.new(IMU, header=header,
                    linear_acceleration=store.new("geometry_msgs/msg/Vector3", x=index * 0.001, y=0.0, z=9.81))
    return store.encode(imu)


def write_recording(
    folder: Path, store: TypeStore, *, vehicle: str = VEHICLE, count: int = SAMPLES,
    first_receive_ns: int | None = None, reliable: bool = False, depth: int = 5, topic: str = "/imu",
) -> Recording:
    """`count` Imu samples, gaps 0.6-1.4 ms (mean 1 ms), latencies 0.15-0.64 ms, sequences from 41."""
    receive_ns = first_receive_ns if first_receive_ns is not None else time.time_ns() - 3600 * 10**9
    path = vehicle_segment_path(folder, REGION, vehicle, receive_ns)
    metadata = {"recorder": "test", "key_root": "telemetry", "region": REGION, "vehicle": vehicle}
    writer = SegmentWriter(path, store, metadata, receive_ns)
    writer.add_channel(ChannelSpec(topic, IMU, reliable, depth))
    samples = []
    for index in range(count):
        source_ns = receive_ns - 150_000 - (index * 131 % 50) * 10_000
        data = imu_cdr(store, source_ns, index)
        writer.write(topic, receive_ns, source_ns, FIRST_SEQUENCE + index, data)
        samples.append(RecordedSample(topic, IMU, receive_ns, source_ns, FIRST_SEQUENCE + index, data))
        receive_ns += 1_000_000 + (index * 7919 % 9 - 4) * 100_000
    return Recording(writer.close(), tuple(samples))


def write_fleet_stats_file(folder: Path, store: TypeStore) -> Path:
    """A file like the recorder's fleet-stats segment: its metadata names no vehicle."""
    writer = SegmentWriter(folder / "fleet" / "fleet_x.mcap", store, {"recorder": "test", "content": "fleet stats"},
                           time.time_ns())
    writer.add_channel(ChannelSpec("/imu", IMU))
    writer.write("/imu", time.time_ns(), time.time_ns(), 1, imu_cdr(store, time.time_ns(), 0))
    return writer.close()


# -- timing ----------------------------------------------------------------------------


def test_schedule_puts_a_sample_at_its_recorded_offset_divided_by_the_rate() -> None:
    assert schedule_ns(1_000_000_123, 1_000_000_000, 50, 1.0) == 173
    assert schedule_ns(1_003_000_000, 1_000_000_000, 50, 2.0) == 1_500_050
    assert schedule_ns(1_003_000_000, 1_000_000_000, 0, 0.5) == 6_000_000
    assert schedule_ns(1_000_000_000, 1_000_000_000, 7, 3.0) == 7


def test_shifted_source_time_keeps_the_recorded_latency() -> None:
    receive_ns, source_ns, put_ns = 1_700_000_000_500_000_000, 1_700_000_000_499_750_000, 1_800_000_000_000_000_000
    shifted = shifted_source_ns(source_ns, receive_ns, put_ns)
    assert put_ns - shifted == receive_ns - source_ns == 250_000


def test_a_recorded_sequence_of_0_is_the_wrapped_2_pow_32() -> None:
    assert wire_sequence(41) == 41
    assert wire_sequence(0) == 2**32


def test_wait_until_returns_at_the_target_and_none_once_stopped() -> None:
    stop = threading.Event()
    target_ns = time.monotonic_ns() + 3_000_000
    now_ns = wait_until_ns(target_ns, stop)
    assert now_ns is not None and now_ns >= target_ns  # how close it gets is measured by the replays below
    stop.set()
    assert wait_until_ns(time.monotonic_ns() + 10**9, stop) is None


def test_times_are_seconds_from_the_recording_start_or_rfc3339() -> None:
    start_ns = 1_700_000_000_000_000_000
    assert resolve_time_ns(None, start_ns) is None
    assert resolve_time_ns("2.5", start_ns) == start_ns + 2_500_000_000
    assert resolve_time_ns("2023-11-14T22:13:20.25Z", 0) == 1_700_000_000_250_000_000
    assert resolve_time_ns("2023-11-14T23:13:20+01:00", 0) == 1_700_000_000_000_000_000
    with pytest.raises(TelemetryError, match="give a zone offset"):
        resolve_time_ns("2023-11-14T22:13:20", 0)
    with pytest.raises(TelemetryError, match="expected seconds from the recording's start or an RFC 3339 time"):
        resolve_time_ns("yesterday", 0)
    with pytest.raises(TelemetryError, match="finite"):
        resolve_time_ns("nan", 0)


def test_options_refuse_a_bad_rate_range_or_key_root(tmp_path: Path) -> None:
    with pytest.raises(TelemetryError, match="rate must be a finite number > 0, got 0"):
        ReplayOptions((tmp_path / "a.mcap",), rate=0.0)
    with pytest.raises(TelemetryError, match="got inf"):
        ReplayOptions((tmp_path / "a.mcap",), rate=float("inf"))
    with pytest.raises(TelemetryError, match=r"root 're\*play'"):
        ReplayOptions((tmp_path / "a.mcap",), key_root="re*play")
    with pytest.raises(TelemetryError, match=r"end .* is before start"):
        ReplayOptions((tmp_path / "a.mcap",), start_ns=2, end_ns=1)


# -- the plan --------------------------------------------------------------------------


def test_samples_of_several_files_merge_in_receive_order(tmp_path: Path, store: TypeStore) -> None:
    first = write_recording(tmp_path, store, vehicle="rover-01", count=30, first_receive_ns=10**18)
    second = write_recording(tmp_path, store, vehicle="rover-02", count=30, first_receive_ns=10**18 + 500_000)
    sources = open_sources([first.path, second.path])
    assert [(s.region, s.vehicle) for s in sources] == [(REGION, "rover-01"), (REGION, "rover-02")]
    merged = list(merged_samples(sources))
    assert [sample.receive_ns for _, sample in merged] == sorted(
        s.receive_ns for s in first.samples + second.samples)
    assert {index for index, _ in merged} == {0, 1}
    assert recording_start_ns(sources) == 10**18


def test_start_and_end_select_recorded_receive_times(tmp_path: Path, store: TypeStore) -> None:
    recording = write_recording(tmp_path, store, count=50)
    start_ns, end_ns = recording.samples[10].receive_ns, recording.samples[19].receive_ns
    selected = [sample for _, sample in merged_samples(open_sources([recording.path]), start_ns, end_ns)]
    assert selected == list(recording.samples[10:20])


def test_the_archive_reads_chunk_by_chunk_what_the_mcap_library_reads(tmp_path: Path, store: TypeStore) -> None:
    recording = write_recording(tmp_path, store, count=3500)  # 1.2 MB of CDR: two chunks
    with recording.path.open("rb") as stream:
        summary = make_reader(stream).get_summary()
    assert summary is not None and len(summary.chunk_indexes) >= 2
    with recording.path.open("rb") as stream:  # the mcap library's own reader: the reference
        reference = [RecordedSample(channel.topic, schema.name if schema else "", message.log_time,
                                    message.publish_time, message.sequence, message.data)
                     for schema, channel, message in make_reader(stream).iter_messages(log_time_order=True)]
    assert list(read_samples(recording.path)) == reference == list(recording.samples)
    start_ns, end_ns = recording.samples[2000].receive_ns, recording.samples[3100].receive_ns
    assert list(read_samples(recording.path, None, start_ns, end_ns)) == list(recording.samples[2000:3101])


def test_a_file_without_a_vehicle_is_skipped_with_a_warning(
    tmp_path: Path, store: TypeStore, caplog: pytest.LogCaptureFixture
) -> None:
    recording = write_recording(tmp_path, store, count=5)
    stats = write_fleet_stats_file(tmp_path, store)
    with caplog.at_level(logging.WARNING, logger="telemetry.recorder.replay"):
        sources = open_sources([stats, recording.path])
    assert [source.path for source in sources] == [recording.path]
    assert "fleet_x.mcap: not a vehicle's recording (content='fleet stats'); skipped" in caplog.text


def test_only_files_without_a_vehicle_are_refused(tmp_path: Path, store: TypeStore) -> None:
    stats = write_fleet_stats_file(tmp_path, store)
    with pytest.raises(TelemetryError, match=r"fleet_x.mcap is a vehicle's recording"):
        open_sources([stats])


def test_a_part_file_is_refused_naming_telemetry_recover(tmp_path: Path) -> None:
    part = part_path(tmp_path / "rover-01_20240101T000000.000Z.mcap")
    part.write_bytes(b"")
    with pytest.raises(TelemetryError, match=r"\.part.*telemetry recover .*mcap\.part"):
        open_sources([part])


def test_a_missing_or_foreign_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(TelemetryError, match=r"nothing.mcap: no such file"):
        open_sources([tmp_path / "nothing.mcap"])
    foreign = tmp_path / "notes.mcap"
    foreign.write_bytes(b"not an mcap file at all, just text")
    with pytest.raises(TelemetryError, match=r"notes.mcap: (not a readable MCAP file|no summary)"):
        open_sources([foreign])


def test_loop_replays_again_until_stopped(tmp_path: Path, store: TypeStore) -> None:
    recording = write_recording(tmp_path, store, count=20)
    sent: list[tuple[int, int]] = []
    stop = threading.Event()

    def send(index: int, sample: RecordedSample, put_ns: int) -> None:
        sent.append((sample.sequence, put_ns))
        if len(sent) == 50:
            stop.set()

    report = play(open_sources([recording.path]), ReplayOptions((recording.path,), loop=True, rate=4.0), send, stop)
    assert (report.samples, report.passes, report.stopped) == (50, 2, True)
    sequences = [sequence for sequence, _ in sent]
    assert sequences == [s.sequence for s in recording.samples] * 2 + [s.sequence for s in recording.samples[:10]]
    put_times = [put_ns for _, put_ns in sent]
    assert put_times == sorted(put_times)


def test_an_empty_selection_is_an_error(tmp_path: Path, store: TypeStore) -> None:
    recording = write_recording(tmp_path, store, count=5)
    late_ns = recording.samples[-1].receive_ns + 10**9
    options = ReplayOptions((recording.path,), start_ns=late_ns)
    with pytest.raises(TelemetryError, match=r"no samples in .*rover-01_.*\.mcap between"):
        play(open_sources([recording.path]), options, lambda *_: None, threading.Event())


# -- onto Zenoh ------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    key: str
    encoding: str
    payload: bytes
    attachment: bytes
    arrival_ns: int


@pytest.fixture
def router_endpoint(processes: ProcessGroup) -> str:
    return start_router(processes, free_port()).endpoint


@pytest.fixture
def replay_arrivals(router_endpoint: str, zenoh_clients: ClientSessions) -> Iterator[list[Arrival]]:
    """Everything that arrives on `replay/data/**` through the router, once routes are up."""
    arrivals: list[Arrival] = []
    probe_key = "replay/data/probe/probe/ready"
    probed = threading.Event()

    def record(sample: zenoh.Sample) -> None:
        if str(sample.key_expr) == probe_key:
            probed.set()
            return
        attachment = sample.attachment.to_bytes() if sample.attachment is not None else b""
        arrivals.append(Arrival(str(sample.key_expr), str(sample.encoding), sample.payload.to_bytes(), attachment,
                                time.monotonic_ns()))

    session = zenoh_clients.open(router_endpoint)
    with session.declare_subscriber("replay/data/**", record):
        prober = zenoh_clients.open(router_endpoint)

        def probe_arrived() -> bool:
            prober.put(probe_key, b"")
            return probed.is_set()

        assert wait_until(probe_arrived, 10.0), "the subscriber's route never reached the router"
        yield arrivals


def replay_onto_zenoh(recording: Recording, router_endpoint: str, store: TypeStore, rate: float = 1.0) -> ReplayReport:
    options = ReplayOptions((recording.path,), rate=rate, wait_subscribers_s=10.0)
    return run_replay(options, SessionOptions(mode="client", connect=(router_endpoint,)), store, threading.Event())


def test_replay_puts_every_sample_unchanged_in_order_with_its_recorded_latency(
    tmp_path: Path, store: TypeStore, router_endpoint: str, replay_arrivals: list[Arrival]
) -> None:
    recording = write_recording(tmp_path, store)
    report = replay_onto_zenoh(recording, router_endpoint, store)
    assert wait_until(lambda: len(replay_arrivals) >= SAMPLES, 10.0), f"{len(replay_arrivals)} of {SAMPLES} arrived"
    assert report.samples == SAMPLES
    assert [a.payload for a in replay_arrivals] == [s.data for s in recording.samples]
    assert {a.key for a in replay_arrivals} == {f"replay/data/{REGION}/{VEHICLE}/imu"}
    assert {a.encoding for a in replay_arrivals} == {f"application/cdr;{IMU}"}
    for arrival, sample in zip(replay_arrivals, recording.samples, strict=True):
        flags, sequence, source_ns, send_ns = unpack_fields(arrival.attachment)
        assert (sequence, flags & FLAG_STAMP_FROM_HEADER) == (sample.sequence, FLAG_STAMP_FROM_HEADER)
        assert abs((send_ns - source_ns) - (sample.receive_ns - sample.source_ns)) <= 1_000


def test_replay_keeps_the_recorded_gaps_between_samples(
    tmp_path: Path, store: TypeStore, router_endpoint: str, replay_arrivals: list[Arrival]
) -> None:
    recording = write_recording(tmp_path, store)
    report = replay_onto_zenoh(recording, router_endpoint, store)
    assert wait_until(lambda: len(replay_arrivals) >= SAMPLES, 10.0), f"{len(replay_arrivals)} of {SAMPLES} arrived"
    arrived = [a.arrival_ns for a in replay_arrivals]
    gap_errors_ns = [abs((b - a) - gap) for (a, b), gap in zip(pairwise(arrived), recording.gaps_ns(), strict=True)]
    assert statistics.median(gap_errors_ns) < 1_000_000
    sent = [unpack_fields(a.attachment)[3] for a in replay_arrivals]
    sent_gap_errors_ns = [abs((b - a) - gap) for (a, b), gap in zip(pairwise(sent), recording.gaps_ns(), strict=True)]
    assert statistics.median(sent_gap_errors_ns) < 1_000_000
    assert report.timing_error.samples == SAMPLES


def test_rate_2_replays_in_half_the_time(
    tmp_path: Path, store: TypeStore, router_endpoint: str, replay_arrivals: list[Arrival]
) -> None:
    recording = write_recording(tmp_path, store)
    report = replay_onto_zenoh(recording, router_endpoint, store, rate=2.0)
    assert wait_until(lambda: len(replay_arrivals) >= SAMPLES, 10.0), f"{len(replay_arrivals)} of {SAMPLES} arrived"
    arrival_span_ns = replay_arrivals[-1].arrival_ns - replay_arrivals[0].arrival_ns
    assert 0.4 * recording.span_ns < arrival_span_ns < 0.65 * recording.span_ns
    assert 0.4 * recording.span_ns / 1e9 < report.duration_s < 0.75 * recording.span_ns / 1e9


# -- into ROS 2 ------------------------------------------------------------------------


def test_offered_qos_profiles_become_the_publishers_qos() -> None:
    reliable = qos_from_offered(qos_profiles_yaml(reliable=True, depth=100))
    assert (reliable.reliability, reliable.history, reliable.depth, reliable.durability) == (
        QoSReliabilityPolicy.RELIABLE, QoSHistoryPolicy.KEEP_LAST, 100, QoSDurabilityPolicy.VOLATILE)
    best_effort = qos_from_offered(qos_profiles_yaml(reliable=False, depth=5))
    assert (best_effort.reliability, best_effort.depth) == (QoSReliabilityPolicy.BEST_EFFORT, 5)
    numbered = qos_from_offered("- history: 1\n  depth: 7\n  reliability: 1\n  durability: 1\n")
    assert (numbered.reliability, numbered.depth, numbered.durability) == (
        QoSReliabilityPolicy.RELIABLE, 7, QoSDurabilityPolicy.TRANSIENT_LOCAL)
    assert qos_from_offered("") == qos_from_offered("- reliability: sometimes\n") == qos_for(reliable=False)


def test_topics_go_under_the_vehicles_name_only_when_several_vehicles_are_replayed(
    tmp_path: Path, store: TypeStore
) -> None:
    first = write_recording(tmp_path, store, vehicle="rover-01", count=3)
    again = write_recording(tmp_path, store, vehicle="rover-01", count=3, first_receive_ns=time.time_ns())
    second = write_recording(tmp_path, store, vehicle="7-up", count=3)
    assert set(replay_topic_names(open_sources([first.path, again.path])).values()) == {"/imu"}
    assert replay_topic_names(open_sources([first.path, second.path])) == {(0, "/imu"): "/rover_01/imu",
                                                                            (1, "/imu"): "/_7_up/imu"}


def test_a_ros_domain_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TelemetryError, match=r"ROS domain must be in 0\.\.232, got 300"):
        run_replay_ros(ReplayOptions((tmp_path / "a.mcap",)), 300, threading.Event())


class ReplayThread:
    """`run_replay_ros` on a thread of its own, stopped and joined on exit (pass or fail)."""

    def __init__(self, options: ReplayOptions, domain_id: int) -> None:
        self.stop = threading.Event()
        self.report: ReplayReport | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(options, domain_id), name="replay", daemon=True)

    def _run(self, options: ReplayOptions, domain_id: int) -> None:
        try:
            self.report = run_replay_ros(options, domain_id, self.stop)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            self.error = error

    def __enter__(self) -> ReplayThread:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self._thread.join(timeout=10.0)
        assert not self._thread.is_alive(), "the replay did not stop within 10 s"


def test_replay_to_ros_publishes_every_sample_at_the_recorded_rate(tmp_path: Path, store: TypeStore) -> None:
    recording = write_recording(tmp_path, store, reliable=True, depth=100)
    domain_id = next_domain_id()
    received: list[tuple[int, bytes]] = []  # (DDS receive time, bytes)
    options = ReplayOptions((recording.path,), wait_subscribers_s=15.0)
    with ros_probe(domain_id, "replay_listener") as probe:
        # Reliable here matches only a reliable publisher: the recorded QoS reached it.
        qos = QoSProfile(depth=1000, reliability=QoSReliabilityPolicy.RELIABLE)
        def on_imu(data: bytes, info: dict[str, int]) -> None:
            received.append((info["received_timestamp"], data))

        # raw=True: the callback gets the serialized bytes. A second parameter gets DDS's message
        # info, whose receive time does not wait for this thread's executor (rclpy's annotation
        # knows only one-parameter callbacks, hence the cast).
        probe.node.create_subscription(Imu, "/imu", cast(Any, on_imu), qos, raw=True)
        with ReplayThread(options, domain_id) as replay:
            deadline = time.monotonic() + 30.0
            while len(received) < SAMPLES and time.monotonic() < deadline and replay.error is None:
                probe.executor.spin_once(timeout_sec=0.05)
    assert replay.error is None, replay.error
    assert replay.report is not None and replay.report.samples == SAMPLES
    assert [data for _, data in received] == [s.data for s in recording.samples]
    recorded_hz = (SAMPLES - 1) / (recording.span_ns / 1e9)
    received_hz = (SAMPLES - 1) / ((received[-1][0] - received[0][0]) / 1e9)
    assert 0.9 * recorded_hz < received_hz < 1.1 * recorded_hz
